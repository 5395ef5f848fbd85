export const PAYRAIL_VERSION = '0.1.0';
