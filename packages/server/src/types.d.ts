// JSON.rawJSON (ES2025, in Node 21+) is not yet in TypeScript's lib.
interface JSON {
  rawJSON(text: string): unknown;
}
