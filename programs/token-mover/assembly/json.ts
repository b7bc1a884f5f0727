import { fail } from "./wasi";

/**
 * Reads one flat JSON object whose values are strings or non-negative integers, which is all the
 * token mover's input needs. Values are kept as their source text.
 */
export class FlatObject {
  keys: string[] = [];
  values: string[] = [];
  isString: bool[] = [];

  get(key: string): string | null {
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] == key) return this.values[i];
    return null;
  }

  isStringValue(key: string): bool {
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] == key) return this.isString[i];
    return false;
  }
}

class Reader {
  text: string;
  pos: i32 = 0;
  constructor(text: string) {
    this.text = text;
  }

  skipSpace(): void {
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) break;
      this.pos++;
    }
  }

  expect(c: string): void {
    this.skipSpace();
    if (this.pos >= this.text.length || this.text.charAt(this.pos) != c) {
      fail("invalid JSON at offset " + this.pos.toString() + ": expected '" + c + "'");
    }
    this.pos++;
  }

  accept(c: string): bool {
    this.skipSpace();
    if (this.pos < this.text.length && this.text.charAt(this.pos) == c) {
      this.pos++;
      return true;
    }
    return false;
  }

  string(): string {
    this.expect('"');
    const start = this.pos;
    while (this.pos < this.text.length && this.text.charAt(this.pos) != '"') {
      if (this.text.charAt(this.pos) == "\\") fail("escapes are not supported in strings");
      this.pos++;
    }
    if (this.pos >= this.text.length) fail("unterminated string");
    const value = this.text.substring(start, this.pos);
    this.pos++;
    return value;
  }

  integer(): string {
    this.skipSpace();
    const start = this.pos;
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c < 0x30 || c > 0x39) break;
      this.pos++;
    }
    if (this.pos == start) fail("invalid JSON at offset " + start.toString() + ": expected a string or an integer");
    return this.text.substring(start, this.pos);
  }
}

export function parseFlatObject(text: string): FlatObject {
  const reader = new Reader(text);
  const object = new FlatObject();
  reader.expect("{");
  if (reader.accept("}")) return object;
  do {
    const key = reader.string();
    reader.expect(":");
    reader.skipSpace();
    const quoted = reader.pos < text.length && text.charAt(reader.pos) == '"';
    object.keys.push(key);
    object.values.push(quoted ? reader.string() : reader.integer());
    object.isString.push(quoted);
  } while (reader.accept(","));
  reader.expect("}");
  reader.skipSpace();
  if (reader.pos != text.length) fail("trailing bytes after the input object");
  return object;
}
