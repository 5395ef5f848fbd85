/**
 * Free text for SEPA fields: the SEPA basic character set (a–z A–Z 0–9 / - ? : ( ) . , ' + space),
 * transliterated as the EPC best-practice table does (ä → ae, é → e, ß → ss) so that no bank has a
 * reason to reject or mangle it, then cut to the field's length.
 */
const SPECIAL: Record<string, string> = {
  ä: 'ae',
  ö: 'oe',
  ü: 'ue',
  Ä: 'Ae',
  Ö: 'Oe',
  Ü: 'Ue',
  ß: 'ss',
  æ: 'ae',
  Æ: 'AE',
  œ: 'oe',
  Œ: 'OE',
  ø: 'o',
  Ø: 'O',
  ł: 'l',
  Ł: 'L',
  đ: 'd',
  Đ: 'D',
  þ: 'th',
  Þ: 'Th',
  ð: 'd',
  Ð: 'D',
  ı: 'i',
  '&': '+',
  '’': "'",
  '‘': "'",
  '«': '',
  '»': '',
  '–': '-',
  '—': '-',
};

const OUTSIDE_SET = /[^A-Za-z0-9/\-?:().,'+ ]/g;

export function sepaText(text: string, max: number): string {
  const mapped = [...text].map((c) => SPECIAL[c] ?? c).join('');
  const plain = mapped.normalize('NFD').replace(/\p{M}/gu, '').replace(OUTSIDE_SET, ' ');
  return plain.replace(/\s+/g, ' ').trim().slice(0, max).trimEnd();
}
