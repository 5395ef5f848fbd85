// JSON.rawJSON (ES2025, in Node 21+) is not yet in TypeScript's lib.
interface JSON {
  rawJSON(text: string): unknown;
}

// iban-to-bic ships no types: a CommonJS module exporting { ibanToBic, ibanIsValid }.
declare module 'iban-to-bic' {
  const directory: { ibanToBic(iban: string): string | undefined; ibanIsValid(iban: string): boolean };
  export default directory;
}
