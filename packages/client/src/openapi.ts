// Generated from docs/openapi.json by `npm run generate -w @payrail/client`. Do not edit.
export interface paths {
    "/2.0/auth/token": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Get a service token
         * @description Exchanges client credentials for a service token valid 30 minutes. Body as JSON or application/x-www-form-urlencoded; credentials may also be sent as HTTP Basic. A wrong secret and an unknown client get the same 401.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        client_id?: string;
                        client_secret?: string;
                        /** @description client_credentials */
                        grant_type: string;
                        /** @description One scope or several (array, or a space-separated string). Known: payments:admin, payments:read-only, payments:allow-sensitive, payments:validate, payments:cancel, payments, payment-links:admin. */
                        scope: string | string[];
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description Seconds (1800). */
                            expires_in: number;
                            /** @description Granted scopes, space-separated. */
                            scope: string;
                            token: string;
                            /** @enum {string} */
                            token_type: "Bearer";
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/2.0/config": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Read the domain configuration */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description address alerted by e-mail when deliveries to a webhook endpoint keep failing; empty: no alerts (default "") */
                            "biapi.manager.email"?: string;
                            /** @description "0": validated payments wait at action confirm for POST {"confirm": …} (default "1") */
                            "payment.auto_confirmation"?: string;
                            /** @description days before a payment that reached no final state becomes expired (default "30") */
                            "payment.manual_expire_time_days"?: string;
                            /** @description largest payment total, in the payment's currency; empty: no limit (default "") */
                            "payment.max_amount"?: string;
                            /** @description "1": PAYMENT_STATE_UPDATED on every state change; "0": only for background changes (default "1") */
                            "payment.state_updated_webhook.systematic"?: string;
                            /** @description minimum days between two alerts about one endpoint (e.g. "0.5") (default "1") */
                            "webhooks.alerts_frequency"?: string;
                            /** @description "1": gzip webhook bodies (content-encoding: gzip) (default "0") */
                            "webhooks.compression.enabled"?: string;
                        };
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        /**
         * Set domain configuration keys
         * @description A map of keys to string values, as Powens takes them; unknown keys and bad values are refused and nothing is written. Answers the whole configuration.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description address alerted by e-mail when deliveries to a webhook endpoint keep failing; empty: no alerts (default "") */
                        "biapi.manager.email"?: string;
                        /** @description "0": validated payments wait at action confirm for POST {"confirm": …} (default "1") */
                        "payment.auto_confirmation"?: string;
                        /** @description days before a payment that reached no final state becomes expired (default "30") */
                        "payment.manual_expire_time_days"?: string;
                        /** @description largest payment total, in the payment's currency; empty: no limit (default "") */
                        "payment.max_amount"?: string;
                        /** @description "1": PAYMENT_STATE_UPDATED on every state change; "0": only for background changes (default "1") */
                        "payment.state_updated_webhook.systematic"?: string;
                        /** @description minimum days between two alerts about one endpoint (e.g. "0.5") (default "1") */
                        "webhooks.alerts_frequency"?: string;
                        /** @description "1": gzip webhook bodies (content-encoding: gzip) (default "0") */
                        "webhooks.compression.enabled"?: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description address alerted by e-mail when deliveries to a webhook endpoint keep failing; empty: no alerts (default "") */
                            "biapi.manager.email"?: string;
                            /** @description "0": validated payments wait at action confirm for POST {"confirm": …} (default "1") */
                            "payment.auto_confirmation"?: string;
                            /** @description days before a payment that reached no final state becomes expired (default "30") */
                            "payment.manual_expire_time_days"?: string;
                            /** @description largest payment total, in the payment's currency; empty: no limit (default "") */
                            "payment.max_amount"?: string;
                            /** @description "1": PAYMENT_STATE_UPDATED on every state change; "0": only for background changes (default "1") */
                            "payment.state_updated_webhook.systematic"?: string;
                            /** @description minimum days between two alerts about one endpoint (e.g. "0.5") (default "1") */
                            "webhooks.alerts_frequency"?: string;
                            /** @description "1": gzip webhook bodies (content-encoding: gzip) (default "0") */
                            "webhooks.compression.enabled"?: string;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/2.0/connectors": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List banks
         * @description Pay connectors, filtered by country and by compatibility with a payment (id_payment). No authentication.
         */
        get: {
            parameters: {
                query?: {
                    /** @description Comma-separated ISO 3166 alpha-2 codes. */
                    country_codes?: string;
                    /** @description Comma-separated: payment_fields, payment_settings, countries, fields, sources, urls. */
                    expand?: string;
                    /** @description Only connectors compatible with this payment (no token needed). */
                    id_payment?: string;
                    top?: string;
                    top_key?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            connectors: {
                                [key: string]: unknown;
                            }[];
                            total: number;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/2.0/connectors/{uuid}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * One bank
         * @description A connector by UUID (or its deprecated numeric id), with optional expands such as payment_fields.
         */
        get: {
            parameters: {
                query?: {
                    expand?: string;
                };
                header?: never;
                path: {
                    uuid: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            [key: string]: unknown;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/2.0/connectors/{uuid}/sources": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A bank's sources
         * @description The connector's sources (Powens' ConnectorSource); Payrail's connectors have one, openapi. No authentication.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    uuid: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            sources: {
                                [key: string]: unknown;
                            }[];
                            total: number;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/2.0/payments": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List payments
         * @description Payments of the domain, ordered by register_date ascending unless order_by/reverse say otherwise.
         */
        get: {
            parameters: {
                query?: {
                    /** @description Bank-side payment id. */
                    bank_payment_id?: string;
                    /** @description An instruction's beneficiary.identification. */
                    beneficiary_identification?: string;
                    /** @description Connector UUID; the literal null selects payments without a connector. */
                    connector_uuid?: string;
                    /** @description Comma-separated ISO 3166 alpha-2 codes. */
                    country?: string;
                    /** @description Payment error code. */
                    error_code?: string;
                    /** @description Execution date type (comma-separated for several). */
                    execution_date_type?: string;
                    /** @description Which date min_date/max_date apply to: register_date (default) or validate_date. */
                    filter?: string;
                    /** @description Connector id; null selects payments without a connector. */
                    id_connector?: string;
                    /** @description Connector source id; null selects payments without one. */
                    id_connector_source?: string;
                    /** @description Maximum number of results (1–1000, default 1000). A page also stops at 5,000 instructions in all (bulk payments): continue at offset + payments.length. */
                    limit?: string;
                    /** @description Exclusive upper bound, YYYY-MM-DD or YYYY-MM-DD HH:MM:SS (UTC). */
                    max_date?: string;
                    /** @description Inclusive lower bound, YYYY-MM-DD or YYYY-MM-DD HH:MM:SS (UTC). */
                    min_date?: string;
                    /** @description First result offset (default 0). */
                    offset?: string;
                    /** @description id, register_date (default), validate_date, state, connectors, amount, instruction_count or execution_date_type. */
                    order_by?: string;
                    /** @description payer.identification */
                    payer_identification?: string;
                    /** @description An instruction's reference_id. */
                    reference_id?: string;
                    /** @description true for descending order. */
                    reverse?: string;
                    /** @description true to include sensitive identity fields. */
                    show_sensitive?: string;
                    /** @description Payment state (comma-separated for several). */
                    state?: string;
                    /** @description Value of the website field. */
                    website?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            payments: components["schemas"]["Payment"][];
                            /** @description Number of payments matching the filters, before limit and offset. */
                            total: number;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        /**
         * Create a payment
         * @description Creates a payment in state `created`. Needs payments:admin. With an `Idempotency-Key` header, a retry with the same key and body replays the first response (24 hours); the same key with another body gets 422. The key is stored in the transaction that creates the payment: a concurrent retry waits for the first request and replays its answer, or gets 409.
         */
        post: {
            parameters: {
                query?: {
                    /** @description true to include sensitive identity fields. */
                    show_sensitive?: string;
                };
                header?: {
                    /** @description Replays the first response for the same key and body for 24 hours. */
                    "idempotency-key"?: string;
                };
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description Registered redirect URI, without query string. */
                        client_redirect_uri: string;
                        client_state?: string | null;
                        connector_uuid?: string | null;
                        id_connector?: number | null;
                        instructions: {
                            /** @description Amount as a decimal number (or decimal string) in the currency unit; no more decimals than the currency has. */
                            amount: string | number;
                            /** BeneficiaryAccount */
                            beneficiary: {
                                /** @description IBAN, or UK sort code followed by account number (14 digits). */
                                identification: string;
                                issuer?: string | null;
                                label?: string | null;
                                postal_address?: {
                                    building_number?: string | null;
                                    /** @description ISO 3166-1 alpha-2 code (required). */
                                    country: string;
                                    post_code?: string | null;
                                    street_name?: string | null;
                                    town_name?: string | null;
                                } | null;
                                /** @description Account scheme. */
                                scheme_name: "iban" | "sort_code_account_number";
                            };
                            beneficiary_identity?: {
                                birth_city?: string | null;
                                birth_country?: string | null;
                                birth_date?: string | null;
                                email?: string | null;
                                external_ref?: string | null;
                                first_name?: string | null;
                                id_user?: number | null;
                                identification?: string | null;
                                issuer?: string | null;
                                kind?: ("individual" | "corporate" | "non_profit" | "government") | null;
                                last_name?: string | null;
                                nationality?: string | null;
                                org_business_address?: string | null;
                                org_hq_address?: string | null;
                                org_legal_status?: string | null;
                                org_name?: string | null;
                                pep?: boolean | null;
                                postal_address?: string | null;
                                scheme_name?: ("national_id_number" | "passport_number" | "alien_reg_number" | "siren" | "siret" | "incorporation_number" | "euid" | "rna") | null;
                                ultimate_owner_extra_text?: string | null;
                                ultimate_owner_text?: string | null;
                            } | null;
                            /** @description ISO 4217 code. */
                            currency: string;
                            end_date?: string | null;
                            execution_date?: string | null;
                            execution_date_type: "first_open_day" | "instant" | "deferred" | "periodic";
                            frequency?: string | null;
                            /** @description Remittance information (≤ 140, ≤ 18 for UK accounts). */
                            label: string;
                            reference_id?: string | null;
                            start_date?: string | null;
                        }[];
                        operator_identity?: {
                            birth_city?: string | null;
                            birth_country?: string | null;
                            birth_date?: string | null;
                            email?: string | null;
                            external_ref?: string | null;
                            first_name?: string | null;
                            id_user?: number | null;
                            identification?: string | null;
                            issuer?: string | null;
                            kind?: ("individual" | "corporate" | "non_profit" | "government") | null;
                            last_name?: string | null;
                            nationality?: string | null;
                            org_business_address?: string | null;
                            org_hq_address?: string | null;
                            org_legal_status?: string | null;
                            org_name?: string | null;
                            pep?: boolean | null;
                            postal_address?: string | null;
                            scheme_name?: ("national_id_number" | "passport_number" | "alien_reg_number" | "siren" | "siret" | "incorporation_number" | "euid" | "rna") | null;
                            ultimate_owner_extra_text?: string | null;
                            ultimate_owner_text?: string | null;
                        } | null;
                        payer?: {
                            /** @description IBAN, or UK sort code followed by account number (14 digits). */
                            identification: string;
                            issuer?: string | null;
                            label?: string | null;
                            /** @description Account scheme. */
                            scheme_name: "iban" | "sort_code_account_number";
                        } | null;
                        payer_identity?: {
                            birth_city?: string | null;
                            birth_country?: string | null;
                            birth_date?: string | null;
                            email?: string | null;
                            external_ref?: string | null;
                            first_name?: string | null;
                            id_user?: number | null;
                            identification?: string | null;
                            issuer?: string | null;
                            kind?: ("individual" | "corporate" | "non_profit" | "government") | null;
                            last_name?: string | null;
                            nationality?: string | null;
                            org_business_address?: string | null;
                            org_hq_address?: string | null;
                            org_legal_status?: string | null;
                            org_name?: string | null;
                            pep?: boolean | null;
                            postal_address?: string | null;
                            scheme_name?: ("national_id_number" | "passport_number" | "alien_reg_number" | "siren" | "siret" | "incorporation_number" | "euid" | "rna") | null;
                            ultimate_owner_extra_text?: string | null;
                            ultimate_owner_text?: string | null;
                        } | null;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Payment"];
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/2.0/payments/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get a payment
         * @description Reads a payment; meant for checking it after the redirect callback (webhooks carry updates).
         */
        get: {
            parameters: {
                query?: {
                    /** @description true to include sensitive identity fields. */
                    show_sensitive?: string;
                };
                header?: never;
                path: {
                    /** @description Payment id. */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Payment"];
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        /**
         * Validate, resume, answer fields, PSU validation, confirm or cancel a payment
         * @description The body decides: `cancel` → cancel (payments:cancel); `confirm` → manual confirmation (payments:admin); `resume: true` → re-check a `decoupled` approval; `psu_validate` → answer `psuValidation`; `fields` on a validating payment → answer `additionalInformationNeeded`; otherwise a PaymentValidateRequest (`connector_uuid`, `webview_url`, `validate_mechanism`, `fields`, `payer`) starts validation of a created payment. Validation operations need payments:admin or payments:validate (a payment-scoped token for this payment).
         */
        post: {
            parameters: {
                query?: {
                    /** @description true to include sensitive identity fields. */
                    show_sensitive?: string;
                };
                header?: never;
                path: {
                    /** @description Payment id. */
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        cancel?: boolean;
                        client_redirect_uri?: string;
                        client_state?: string;
                        confirm?: boolean;
                        connector_uuid?: string;
                        /** @description Connector fields (validate) or answers to additionalInformationNeeded. */
                        fields?: {
                            [key: string]: string;
                        };
                        id_connector?: number;
                        /** PaymentAccount */
                        payer?: {
                            /** @description IBAN, or UK sort code followed by account number (14 digits). */
                            identification: string;
                            issuer?: string | null;
                            label?: string | null;
                            /** @description Account scheme. */
                            scheme_name: "iban" | "sort_code_account_number";
                        };
                        psu_validate?: boolean;
                        resume?: boolean;
                        validate_mechanism?: string;
                        validated?: boolean;
                        /** @description Accepted alias of validate_mechanism. */
                        validation_mechanism?: string;
                        website?: string;
                        /** @description Where the bank sends the payer back; on Payrail's origin or a registered redirect URI's origin. */
                        webview_url?: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Payment"];
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/2.0/payments/{id}/exchanges": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A payment's bank attempts and exchange log
         * @description Every call Payrail made to the bank for this payment: the call (`attempts`: written before the call; its id is the X-Request-ID; outcome pending, ok, refused or unknown), the payment attempt it belongs to (`payment_attempts`: one per initiation at a bank, with its own bank payment id) and the exchange (method, path, status, duration, bodies with IBANs shortened to country and last four characters and names redacted). Payrail extension; needs payments:admin. See docs/banks.md.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Payment id. */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            attempts: {
                                /** @description The number of the payment attempt (initiation) the call belongs to. */
                                attempt: number | null;
                                bank_reference: string | null;
                                error: string | null;
                                finished_at: string | null;
                                http_status: number | null;
                                id: string;
                                operation: string;
                                outcome: string;
                                raw_status: string | null;
                                started_at: string;
                            }[];
                            exchanges: {
                                /** @description The number of the payment attempt (initiation) the call belongs to. */
                                attempt: number | null;
                                attempt_id: string | null;
                                bank_id: number | null;
                                created_at: string;
                                duration_ms: number;
                                error: string | null;
                                id: number;
                                method: string;
                                operation: string | null;
                                outcome: string | null;
                                path: string;
                                request_body: unknown;
                                request_id: string;
                                response_body: unknown;
                                status: number | null;
                            }[];
                            id_payment: number;
                            payment_attempts: {
                                /** @description The configured bank (as bank_id in the exchanges); null for the test bank. */
                                bank_id: number | null;
                                /** @description The bank's id of this initiation. */
                                bank_payment_id: string | null;
                                /** @description The bank's last raw status. */
                                bank_status: string | null;
                                /** @description The X-Request-IDs of the attempt's bank calls. */
                                calls: string[];
                                connector_uuid: string;
                                created_at: string;
                                /** @description The attempt the payment follows now. */
                                current: boolean;
                                next_sync_at: string | null;
                                /** @description 1 for the first initiation at a bank, 2 for a fresh one after it… */
                                number: number;
                                /** @description How the initiation ended: pending, ok, refused or unknown. */
                                outcome: string;
                                /** @description The bank's Verification of Payee at this initiation; null when it reported none. Payrail extension. */
                                payee_verification: {
                                    /** @description The bank's code that carried it (e.g. Berlin Group RVCM). */
                                    bank_code: string;
                                    /** @description The check of the payee's name (Verification of Payee): match, close_match, no_match, not_possible; null when the bank did not say. */
                                    result: "match" | "close_match" | "no_match" | "not_possible" | null;
                                } | null;
                                superseded_at: string | null;
                                sync_failures: number;
                            }[];
                        };
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/2.0/payments/{id}/incompatibilities": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Connectors that cannot (or may not) make this payment
         * @description One entry per connector with at least one reason, with Powens' reason codes (maxAmount, minAmount, maxBulk, maxDateDelta, minDateDelta, nspDateType, nspFrequency, nspBulk, nspBenefScheme, nspPayer, nspExecDate, nspCurrency, trustBenef). Payrail adds connector_uuid and id_connector.
         */
        get: {
            parameters: {
                query?: {
                    /** @description true to include hidden connectors. */
                    all?: string;
                };
                header?: never;
                path: {
                    /** @description Payment id. */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            connector_uuid: string;
                            id_connector: number;
                            reasons: {
                                code: string;
                                description: string;
                                type: string;
                                value_connector: unknown;
                                value_payment: unknown;
                            }[];
                            type: string;
                        }[];
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/2.0/payments/{id}/occurrences": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A standing order's occurrences
         * @description Payrail extension. For a periodic payment: the occurrences executed, then the next ones scheduled while the order is active. Empty for other payments.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            occurrences: {
                                /** @description The date the schedule names (YYYY-MM-DD). */
                                due_date: string;
                                executed_at: string | null;
                                /** @description The business day it executes on: due_date, or the next business day of the currency. */
                                execution_date: string;
                                /** @description 1 for the occurrence on start_date. */
                                sequence: number;
                                state: "done" | "scheduled";
                            }[];
                            total: number;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/2.0/payments/{id}/scopedtoken": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Get a payment-scoped token
         * @description Mints a token bound to this payment, valid 7 days, to hand to the webview (`code`) or a custom validation page. payments:admin is never granted this way. Callable with payments:admin, or with this payment's own payments:validate token.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Payment id. */
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description One scope or several (array, or a space-separated string). Known: payments:admin, payments:read-only, payments:allow-sensitive, payments:validate, payments:cancel, payments, payment-links:admin. */
                        scope: string | string[];
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description Seconds (604800 = 7 days). */
                            expires_in: number;
                            id_payment: number;
                            scope: string;
                            token: string;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/2.0/payments/{id}/terms": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Whether the payer has accepted the current terms */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Payment id. */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description When the payer accepted them. */
                            accepted: string | null;
                            /** @description The current terms. */
                            id_terms: number;
                            /** @description true while the payer has not accepted the current terms. */
                            to_sign: boolean;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        /** Record the payer's acceptance of the current terms */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Payment id. */
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description The current terms id (GET /2.0/terms). */
                        id_terms: number;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {string} */
                            success: "ok";
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/2.0/publickey": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * End-to-end encryption public key
         * @description An RSA JWK (`alg` RSA-OAEP-256): encrypt each sensitive value into a compact JWE (RSA-OAEP-256, A256GCM, with this `kid`).
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            alg: string;
                            e: string;
                            kid: string;
                            kty: string;
                            n: string;
                            use: string;
                        } & {
                            [key: string]: unknown;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/2.0/sign-keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Response-signature keys, past and present
         * @description A JWK Set: each key is a JWK (RS256, `kid` = id) with Powens' `id`, `public_key` (PEM) and `deprecated` fields.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            keys: {
                                alg: string;
                                /** @description If set, the key was rotated out: signatures it made still verify, new ones never use it. */
                                deprecated: string | null;
                                e: string;
                                /** @description ID of the key (the JWS header `kid`). */
                                id: number;
                                kid: string;
                                kty: string;
                                n: string;
                                /** @description PEM of the public key. */
                                public_key: string;
                                use: string;
                            }[];
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/2.0/sign-keys/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One response-signature key */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            alg: string;
                            /** @description If set, the key was rotated out: signatures it made still verify, new ones never use it. */
                            deprecated: string | null;
                            e: string;
                            /** @description ID of the key (the JWS header `kid`). */
                            id: number;
                            kid: string;
                            kty: string;
                            n: string;
                            /** @description PEM of the public key. */
                            public_key: string;
                            use: string;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/2.0/terms": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The current terms of service */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            content: string;
                            language: string;
                            terms: {
                                created: string;
                                id: number;
                                url: string | null;
                                version: number;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/2.0/webhooks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List webhook endpoints */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            webhooks: {
                                created_at: number;
                                enabled: boolean;
                                event: string;
                                id: number;
                                /** @description the authentication provider of its deliveries (POST /webhooks/auth); null: its own HMAC key */
                                id_auth: number | null;
                                url: string;
                            }[];
                        };
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        /**
         * Register a webhook endpoint
         * @description Deliveries are signed with the HMAC secret_key returned here, once (BI-Signature, BI-Signature-Date as Powens signs them).
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        event?: "PAYMENT_STATE_UPDATED";
                        /** @description a provider from POST /webhooks/auth */
                        id_auth?: number | null;
                        url: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            created_at: number;
                            enabled: boolean;
                            event: string;
                            id: number;
                            /** @description the authentication provider of its deliveries (POST /webhooks/auth); null: its own HMAC key */
                            id_auth: number | null;
                            url: string;
                        } & {
                            secret_key: string;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/2.0/webhooks/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Disable a webhook endpoint */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {string} */
                            success: "ok";
                        };
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/2.0/webhooks/auth": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List webhook authentication providers
         * @description Secrets are never shown again.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            providers: {
                                config: {
                                    client_id?: string;
                                    grant_type?: string;
                                    url?: string;
                                };
                                created_at: number;
                                id: number;
                                name: string;
                                type: string;
                            }[];
                        };
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        /**
         * Create a webhook authentication provider
         * @description `hmac_signature`: deliveries of the endpoints linked to it (id_auth) are signed with the config.secret_key answered here, once. `oauth`: Payrail fetches a bearer token from config.url with the client-credentials grant (HTTP Basic client authentication), caches it until it expires and sends it as `Authorization: Bearer`.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        config?: {
                            client_id?: string;
                            client_secret?: string;
                            grant_type?: string;
                            url?: string;
                        };
                        name: string;
                        /** @description hmac_signature or oauth */
                        type: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            config: {
                                client_id?: string;
                                grant_type?: string;
                                secret_key?: string;
                                url?: string;
                            };
                            created_at: number;
                            id: number;
                            name: string;
                            type: string;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/2.0/webhooks/auth/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Delete a webhook authentication provider
         * @description Refused while an enabled endpoint uses it.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {string} */
                            success: "ok";
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/2.0/webhooks/deliveries": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Delivery log
         * @description Newest first, each with every attempt (time, HTTP status, duration, error).
         */
        get: {
            parameters: {
                query?: {
                    limit?: string;
                    payment_id?: string;
                    /** @description pending, delivered or failed */
                    status?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            deliveries: {
                                [key: string]: unknown;
                            }[];
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/2.0/webhooks/deliveries/{id}/replay": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Send a delivery again */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: number;
                        };
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** Error */
        Error: {
            /** @description Machine-readable error code (see docs/errors.md). */
            code: string;
            /** @description Technical description; names the offending field first when there is one. */
            description: string;
            /** @description The offending field, as a path such as instructions[0].amount. */
            field?: string;
            message: string | null;
            /** @description Identifier of the request, for support and logs. */
            request_id: number;
        };
        /** Payment */
        Payment: {
            action: string | null;
            bank_payment_id: string | null;
            client_redirect_uri: string | null;
            client_state: string | null;
            connector_uuid: string | null;
            /** @description Country of the payer account if known, else of the first beneficiary. */
            country: string;
            error_code: string | null;
            error_description: string | null;
            fields: ({
                name: string;
            } & {
                [key: string]: unknown;
            })[];
            id: number;
            id_connector: number | null;
            id_connector_source: number | null;
            instructions: {
                /** @description Printed with 10 decimals, e.g. 50.9000000000. */
                amount: number;
                beneficiary: {
                    bic: string | null;
                    disabled_date: null;
                    /** @description The account record's id: for a beneficiary its instruction's id, for the payer the payment's. */
                    id: number;
                    id_account: null;
                    identification: string;
                    issuer: string | null;
                    label: string | null;
                    merchant_identification: null;
                    merchant_scheme_name: null;
                    scheme_name: "iban" | "sort_code_account_number";
                };
                beneficiary_identity: {
                    birth_city?: string | null;
                    birth_country?: string | null;
                    birth_date?: string | null;
                    email?: string | null;
                    external_ref?: string | null;
                    first_name?: string | null;
                    identification?: string | null;
                    issuer?: string | null;
                    kind?: ("individual" | "corporate" | "non_profit" | "government") | null;
                    last_name?: string | null;
                    nationality?: string | null;
                    org_business_address?: string | null;
                    org_hq_address?: string | null;
                    org_legal_status?: string | null;
                    org_name?: string | null;
                    pep?: boolean | null;
                    postal_address?: string | null;
                    scheme_name?: ("national_id_number" | "passport_number" | "alien_reg_number" | "siren" | "siret" | "incorporation_number" | "euid" | "rna") | null;
                    ultimate_owner_extra_text?: string | null;
                    ultimate_owner_text?: string | null;
                } | null;
                currency: {
                    crypto: boolean;
                    datetime: null;
                    id: string;
                    marketcap: null;
                    name: string;
                    precision: number;
                    prefix: boolean;
                    symbol: string;
                };
                end_date: string | null;
                exec_date: null;
                execution_date: string | null;
                execution_date_type: "first_open_day" | "instant" | "deferred" | "periodic";
                frequency: string | null;
                id: number;
                label: string;
                reference_id: string;
                start_date: string | null;
                state: string | null;
            }[];
            operator_identity: {
                birth_city?: string | null;
                birth_country?: string | null;
                birth_date?: string | null;
                email?: string | null;
                external_ref?: string | null;
                first_name?: string | null;
                identification?: string | null;
                issuer?: string | null;
                kind?: ("individual" | "corporate" | "non_profit" | "government") | null;
                last_name?: string | null;
                nationality?: string | null;
                org_business_address?: string | null;
                org_hq_address?: string | null;
                org_legal_status?: string | null;
                org_name?: string | null;
                pep?: boolean | null;
                postal_address?: string | null;
                scheme_name?: ("national_id_number" | "passport_number" | "alien_reg_number" | "siren" | "siret" | "incorporation_number" | "euid" | "rna") | null;
                ultimate_owner_extra_text?: string | null;
                ultimate_owner_text?: string | null;
            } | null;
            payer: {
                bic: string | null;
                disabled_date: null;
                /** @description The account record's id: for a beneficiary its instruction's id, for the payer the payment's. */
                id: number;
                id_account: null;
                identification: string;
                issuer: string | null;
                label: string | null;
                merchant_identification: null;
                merchant_scheme_name: null;
                scheme_name: "iban" | "sort_code_account_number";
            } | null;
            payer_identity: {
                birth_city?: string | null;
                birth_country?: string | null;
                birth_date?: string | null;
                email?: string | null;
                external_ref?: string | null;
                first_name?: string | null;
                identification?: string | null;
                issuer?: string | null;
                kind?: ("individual" | "corporate" | "non_profit" | "government") | null;
                last_name?: string | null;
                nationality?: string | null;
                org_business_address?: string | null;
                org_hq_address?: string | null;
                org_legal_status?: string | null;
                org_name?: string | null;
                pep?: boolean | null;
                postal_address?: string | null;
                scheme_name?: ("national_id_number" | "passport_number" | "alien_reg_number" | "siren" | "siret" | "incorporation_number" | "euid" | "rna") | null;
                ultimate_owner_extra_text?: string | null;
                ultimate_owner_text?: string | null;
            } | null;
            /** @description YYYY-MM-DD HH:MM:SS (UTC) */
            register_date: string;
            /** @description One of created, validating, pending, accepted, done, rejected, expired, partial (clients should accept new values). */
            state: string;
            state_detail: string | null;
            validate_date: string | null;
            validate_mechanism: string | null;
            validate_uri: string | null;
            website: string | null;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;
