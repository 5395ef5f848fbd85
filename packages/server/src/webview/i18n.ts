/** Webview texts in the seven languages of the Powens webview. */
export const LANGS = ['en', 'fr', 'de', 'es', 'it', 'nl', 'pt'] as const;
export type Lang = (typeof LANGS)[number];

const en = {
  title: 'Pay by bank transfer',
  payTo: 'Payment to',
  amount: 'Amount',
  reference: 'Reference',
  beneficiary: 'Beneficiary',
  chooseBank: 'Choose your bank',
  search: 'Search for your bank',
  searchButton: 'Search',
  noBank: 'No bank matches your search.',
  inCountry: 'Banks in {country}',
  otherCountries: 'Other countries',
  continue: 'Continue',
  cancel: 'Cancel the payment',
  back: 'Choose another bank',
  payerAccount: 'Your IBAN (the account you pay from)',
  bankFields: 'Information your bank needs',
  goToBank: 'Continue to your bank',
  redirecting: 'You are being sent to your bank to approve the payment.',
  waitTitle: 'Approve the payment in your banking app',
  waitText: 'This page checks again every few seconds.',
  checkNow: 'I have approved it — check now',
  fieldsTitle: 'Your bank needs more information',
  psuTitle: 'Do you confirm this payment?',
  yes: 'Yes, pay',
  no: 'No',
  errorTitle: 'This payment link cannot be used',
  errorSession: 'The link is invalid or has expired. Go back to the merchant and start again.',
  errorForm: 'This form has expired or was already sent. Please start again from the merchant’s site.',
  required: 'required',
  errorInput: 'Please check what you entered and try again.',
  footer: 'Secured by Payrail. Your bank credentials are only ever entered at your bank.',
  leaving: 'Taking you on…',
  leavingLink: 'Continue',
  unknownTitle: 'We could not confirm your payment with your bank', unknownText: 'Your bank did not answer in time, so we do not know whether it received this payment. Nothing will be sent to your bank again without you, and you will not pay twice.', unknownRetry: 'Start a new attempt at your bank', unknownWait: 'Check your banking app or statement: we keep asking your bank and the merchant will be told the outcome.', initiating: 'Your payment is being sent to your bank…',
};
export type Messages = typeof en;

const MESSAGES: Record<Lang, Messages> = {
  en,
  fr: {
    errorInput: 'Vérifiez ce que vous avez saisi et réessayez.',
    title: 'Payer par virement', payTo: 'Paiement à', amount: 'Montant', reference: 'Référence', beneficiary: 'Bénéficiaire',
    chooseBank: 'Choisissez votre banque', search: 'Rechercher votre banque', searchButton: 'Rechercher', noBank: 'Aucune banque ne correspond à votre recherche.',
    inCountry: 'Banques en {country}', otherCountries: 'Autres pays', continue: 'Continuer', cancel: 'Annuler le paiement', back: 'Choisir une autre banque',
    payerAccount: 'Votre IBAN (le compte débité)', bankFields: 'Informations demandées par votre banque', goToBank: 'Continuer vers votre banque',
    redirecting: 'Vous êtes redirigé vers votre banque pour valider le paiement.', waitTitle: 'Validez le paiement dans votre application bancaire',
    waitText: 'Cette page se met à jour toutes les quelques secondes.', checkNow: 'J’ai validé — vérifier maintenant', fieldsTitle: 'Votre banque a besoin d’informations',
    psuTitle: 'Confirmez-vous ce paiement ?', yes: 'Oui, payer', no: 'Non', errorTitle: 'Ce lien de paiement ne peut pas être utilisé',
    errorSession: 'Le lien est invalide ou a expiré. Retournez chez le marchand pour recommencer.', errorForm: 'Ce formulaire a expiré ou a déjà été envoyé. Recommencez depuis le site du marchand.',
    required: 'obligatoire', footer: 'Sécurisé par Payrail. Vos identifiants bancaires ne sont saisis que chez votre banque.',
    leaving: 'Redirection en cours…', leavingLink: 'Continuer',
    unknownTitle: 'Nous n’avons pas pu confirmer votre paiement auprès de votre banque', unknownText: 'Votre banque n’a pas répondu à temps : nous ne savons pas si elle a reçu ce paiement. Rien ne lui sera renvoyé sans vous, et vous ne paierez pas deux fois.', unknownRetry: 'Faire une nouvelle tentative auprès de votre banque', unknownWait: 'Vérifiez votre application bancaire : nous continuons d’interroger votre banque et le marchand sera informé du résultat.', initiating: 'Votre paiement est en cours d’envoi à votre banque…',
  },
  de: {
    errorInput: 'Bitte prüfen Sie Ihre Eingabe und versuchen Sie es erneut.',
    title: 'Per Überweisung bezahlen', payTo: 'Zahlung an', amount: 'Betrag', reference: 'Verwendungszweck', beneficiary: 'Empfänger',
    chooseBank: 'Wählen Sie Ihre Bank', search: 'Bank suchen', searchButton: 'Suchen', noBank: 'Keine Bank passt zu Ihrer Suche.',
    inCountry: 'Banken in {country}', otherCountries: 'Andere Länder', continue: 'Weiter', cancel: 'Zahlung abbrechen', back: 'Andere Bank wählen',
    payerAccount: 'Ihre IBAN (das belastete Konto)', bankFields: 'Angaben für Ihre Bank', goToBank: 'Weiter zu Ihrer Bank',
    redirecting: 'Sie werden zu Ihrer Bank weitergeleitet, um die Zahlung freizugeben.', waitTitle: 'Geben Sie die Zahlung in Ihrer Banking-App frei',
    waitText: 'Diese Seite prüft alle paar Sekunden erneut.', checkNow: 'Ich habe freigegeben – jetzt prüfen', fieldsTitle: 'Ihre Bank benötigt weitere Angaben',
    psuTitle: 'Bestätigen Sie diese Zahlung?', yes: 'Ja, bezahlen', no: 'Nein', errorTitle: 'Dieser Zahlungslink kann nicht verwendet werden',
    errorSession: 'Der Link ist ungültig oder abgelaufen. Kehren Sie zum Händler zurück und beginnen Sie neu.', errorForm: 'Dieses Formular ist abgelaufen oder wurde bereits gesendet. Beginnen Sie beim Händler neu.',
    required: 'Pflichtfeld', footer: 'Gesichert durch Payrail. Ihre Bankzugangsdaten geben Sie nur bei Ihrer Bank ein.',
    leaving: 'Sie werden weitergeleitet…', leavingLink: 'Weiter',
    unknownTitle: 'Wir konnten Ihre Zahlung bei Ihrer Bank nicht bestätigen', unknownText: 'Ihre Bank hat nicht rechtzeitig geantwortet; wir wissen nicht, ob sie diese Zahlung erhalten hat. Ohne Sie wird nichts erneut gesendet, und Sie zahlen nicht doppelt.', unknownRetry: 'Neuen Versuch bei Ihrer Bank starten', unknownWait: 'Prüfen Sie Ihre Banking-App: Wir fragen weiter bei Ihrer Bank nach, und der Händler erfährt das Ergebnis.', initiating: 'Ihre Zahlung wird an Ihre Bank gesendet…',
  },
  es: {
    errorInput: 'Compruebe lo que ha introducido e inténtelo de nuevo.',
    title: 'Pagar por transferencia', payTo: 'Pago a', amount: 'Importe', reference: 'Concepto', beneficiary: 'Beneficiario',
    chooseBank: 'Elija su banco', search: 'Buscar su banco', searchButton: 'Buscar', noBank: 'Ningún banco coincide con su búsqueda.',
    inCountry: 'Bancos en {country}', otherCountries: 'Otros países', continue: 'Continuar', cancel: 'Cancelar el pago', back: 'Elegir otro banco',
    payerAccount: 'Su IBAN (la cuenta de cargo)', bankFields: 'Datos que pide su banco', goToBank: 'Continuar a su banco',
    redirecting: 'Le llevamos a su banco para aprobar el pago.', waitTitle: 'Apruebe el pago en la aplicación de su banco',
    waitText: 'Esta página vuelve a comprobar cada pocos segundos.', checkNow: 'Ya lo he aprobado: comprobar ahora', fieldsTitle: 'Su banco necesita más información',
    psuTitle: '¿Confirma este pago?', yes: 'Sí, pagar', no: 'No', errorTitle: 'Este enlace de pago no se puede usar',
    errorSession: 'El enlace no es válido o ha caducado. Vuelva al comercio y empiece de nuevo.', errorForm: 'Este formulario ha caducado o ya se envió. Empiece de nuevo desde el comercio.',
    required: 'obligatorio', footer: 'Protegido por Payrail. Sus credenciales bancarias solo se introducen en su banco.',
    leaving: 'Le redirigimos…', leavingLink: 'Continuar',
    unknownTitle: 'No hemos podido confirmar su pago con su banco', unknownText: 'Su banco no respondió a tiempo: no sabemos si recibió este pago. No se enviará nada de nuevo sin usted y no pagará dos veces.', unknownRetry: 'Hacer un nuevo intento en su banco', unknownWait: 'Consulte la aplicación de su banco: seguimos preguntando a su banco y el comercio conocerá el resultado.', initiating: 'Su pago se está enviando a su banco…',
  },
  it: {
    errorInput: 'Controlla i dati inseriti e riprova.',
    title: 'Paga con bonifico', payTo: 'Pagamento a', amount: 'Importo', reference: 'Causale', beneficiary: 'Beneficiario',
    chooseBank: 'Scegli la tua banca', search: 'Cerca la tua banca', searchButton: 'Cerca', noBank: 'Nessuna banca corrisponde alla ricerca.',
    inCountry: 'Banche in {country}', otherCountries: 'Altri paesi', continue: 'Continua', cancel: 'Annulla il pagamento', back: 'Scegli un’altra banca',
    payerAccount: 'Il tuo IBAN (il conto di addebito)', bankFields: 'Informazioni richieste dalla banca', goToBank: 'Continua verso la tua banca',
    redirecting: 'Ti stiamo portando alla tua banca per approvare il pagamento.', waitTitle: 'Approva il pagamento nell’app della tua banca',
    waitText: 'Questa pagina si aggiorna ogni pochi secondi.', checkNow: 'Ho approvato: verifica ora', fieldsTitle: 'La tua banca ha bisogno di altre informazioni',
    psuTitle: 'Confermi questo pagamento?', yes: 'Sì, paga', no: 'No', errorTitle: 'Questo link di pagamento non può essere usato',
    errorSession: 'Il link non è valido o è scaduto. Torna dal venditore e ricomincia.', errorForm: 'Il modulo è scaduto o è già stato inviato. Ricomincia dal sito del venditore.',
    required: 'obbligatorio', footer: 'Protetto da Payrail. Le credenziali bancarie si inseriscono solo presso la tua banca.',
    leaving: 'Reindirizzamento in corso…', leavingLink: 'Continua',
    unknownTitle: 'Non abbiamo potuto confermare il pagamento con la tua banca', unknownText: 'La tua banca non ha risposto in tempo: non sappiamo se ha ricevuto questo pagamento. Nulla verrà inviato di nuovo senza di te e non pagherai due volte.', unknownRetry: 'Fai un nuovo tentativo presso la tua banca', unknownWait: 'Controlla l’app della tua banca: continuiamo a chiedere alla banca e il venditore conoscerà l’esito.', initiating: 'Il pagamento è in corso di invio alla tua banca…',
  },
  nl: {
    errorInput: 'Controleer wat u hebt ingevuld en probeer het opnieuw.',
    title: 'Betalen per overschrijving', payTo: 'Betaling aan', amount: 'Bedrag', reference: 'Omschrijving', beneficiary: 'Begunstigde',
    chooseBank: 'Kies uw bank', search: 'Zoek uw bank', searchButton: 'Zoeken', noBank: 'Geen bank komt overeen met uw zoekopdracht.',
    inCountry: 'Banken in {country}', otherCountries: 'Andere landen', continue: 'Doorgaan', cancel: 'Betaling annuleren', back: 'Andere bank kiezen',
    payerAccount: 'Uw IBAN (de rekening die wordt gedebiteerd)', bankFields: 'Gegevens die uw bank nodig heeft', goToBank: 'Verder naar uw bank',
    redirecting: 'U wordt naar uw bank gestuurd om de betaling goed te keuren.', waitTitle: 'Keur de betaling goed in uw bankapp',
    waitText: 'Deze pagina controleert elke paar seconden opnieuw.', checkNow: 'Ik heb goedgekeurd — nu controleren', fieldsTitle: 'Uw bank heeft meer gegevens nodig',
    psuTitle: 'Bevestigt u deze betaling?', yes: 'Ja, betalen', no: 'Nee', errorTitle: 'Deze betaallink kan niet worden gebruikt',
    errorSession: 'De link is ongeldig of verlopen. Ga terug naar de winkel en begin opnieuw.', errorForm: 'Dit formulier is verlopen of al verstuurd. Begin opnieuw vanaf de winkel.',
    required: 'verplicht', footer: 'Beveiligd door Payrail. Uw bankgegevens voert u alleen bij uw bank in.',
    leaving: 'U wordt doorgestuurd…', leavingLink: 'Doorgaan',
    unknownTitle: 'We konden uw betaling niet bevestigen bij uw bank', unknownText: 'Uw bank antwoordde niet op tijd: we weten niet of zij deze betaling heeft ontvangen. Zonder u wordt niets opnieuw verstuurd en u betaalt niet twee keer.', unknownRetry: 'Nieuwe poging bij uw bank', unknownWait: 'Controleer uw bankapp: we blijven uw bank vragen en de winkel hoort de uitkomst.', initiating: 'Uw betaling wordt naar uw bank verstuurd…',
  },
  pt: {
    errorInput: 'Verifique o que introduziu e tente novamente.',
    title: 'Pagar por transferência', payTo: 'Pagamento a', amount: 'Montante', reference: 'Referência', beneficiary: 'Beneficiário',
    chooseBank: 'Escolha o seu banco', search: 'Procurar o seu banco', searchButton: 'Procurar', noBank: 'Nenhum banco corresponde à sua pesquisa.',
    inCountry: 'Bancos em {country}', otherCountries: 'Outros países', continue: 'Continuar', cancel: 'Cancelar o pagamento', back: 'Escolher outro banco',
    payerAccount: 'O seu IBAN (a conta a debitar)', bankFields: 'Informações pedidas pelo seu banco', goToBank: 'Continuar para o seu banco',
    redirecting: 'Está a ser enviado para o seu banco para aprovar o pagamento.', waitTitle: 'Aprove o pagamento na aplicação do seu banco',
    waitText: 'Esta página volta a verificar a cada poucos segundos.', checkNow: 'Já aprovei — verificar agora', fieldsTitle: 'O seu banco precisa de mais informações',
    psuTitle: 'Confirma este pagamento?', yes: 'Sim, pagar', no: 'Não', errorTitle: 'Esta ligação de pagamento não pode ser usada',
    errorSession: 'A ligação é inválida ou expirou. Volte ao comerciante e comece de novo.', errorForm: 'Este formulário expirou ou já foi enviado. Comece de novo no site do comerciante.',
    required: 'obrigatório', footer: 'Protegido por Payrail. As suas credenciais bancárias só são introduzidas no seu banco.',
    leaving: 'A redirecionar…', leavingLink: 'Continuar',
    unknownTitle: 'Não foi possível confirmar o seu pagamento junto do seu banco', unknownText: 'O seu banco não respondeu a tempo: não sabemos se recebeu este pagamento. Nada será enviado de novo sem si e não pagará duas vezes.', unknownRetry: 'Fazer uma nova tentativa no seu banco', unknownWait: 'Verifique a aplicação do seu banco: continuamos a perguntar ao banco e o comerciante saberá o resultado.', initiating: 'O seu pagamento está a ser enviado para o seu banco…',
  },
};

/** The path's language, else the browser's most preferred one we speak (Accept-Language q-values), else English. */
export function pickLang(value: string | undefined, acceptLanguage: string | undefined): Lang {
  if (value && (LANGS as readonly string[]).includes(value)) return value as Lang;
  const ranked = (acceptLanguage ?? '').slice(0, 1000).split(',').map((part, index) => {
    const [tag = '', ...params] = part.trim().split(';');
    const q = params.map((p) => /^\s*q=([01](?:\.\d{0,3})?)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    return { code: tag.trim().slice(0, 2).toLowerCase(), q: q === undefined ? 1 : Number(q), index };
  });
  ranked.sort((a, b) => b.q - a.q || a.index - b.index);
  const found = ranked.find((r) => r.q > 0 && (LANGS as readonly string[]).includes(r.code));
  return found ? (found.code as Lang) : 'en';
}

export function messages(lang: Lang): Messages {
  return MESSAGES[lang];
}
