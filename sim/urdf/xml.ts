/**
 * A minimal XML reader for URDF: elements, attributes, comments, the `<?xml?>`
 * declaration, self-closing tags and (ignored) text. Every element and
 * attribute remembers its line so URDF errors can point at it. Anything outside
 * that subset (DOCTYPE, CDATA, processing instructions inside the document) is
 * rejected with a clear error rather than guessed at.
 */

export interface XmlAttribute {
  value: string;
  line: number;
}

export interface XmlElement {
  name: string;
  line: number;
  attributes: Map<string, XmlAttribute>;
  children: XmlElement[];
}

export class XmlError extends Error {
  constructor(
    readonly line: number,
    readonly problem: string,
  ) {
    super(`line ${line}: ${problem}`);
    this.name = "XmlError";
  }
}

const NAME_START = /[A-Za-z_:]/;
const NAME_CHAR = /[A-Za-z0-9_:.\-]/;

const ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

function decodeEntities(raw: string, line: number): string {
  return raw.replace(/&([^;&\s]*);?/g, (match, body: string) => {
    if (!match.endsWith(";")) throw new XmlError(line, `unterminated entity reference "${match}"`);
    if (body in ENTITIES) return ENTITIES[body]!;
    const num = /^#(x[0-9a-fA-F]+|[0-9]+)$/.exec(body);
    if (num) {
      const code = num[1]!.startsWith("x") ? parseInt(num[1]!.slice(1), 16) : parseInt(num[1]!, 10);
      if (code > 0 && code <= 0x10ffff) return String.fromCodePoint(code);
    }
    throw new XmlError(line, `unknown entity "&${body};"`);
  });
}

/** Parses one XML document and returns its root element. */
export function parseXml(text: string): XmlElement {
  let pos = 0;
  let line = 1;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;

  const advance = (to: number) => {
    for (let k = pos; k < to; k++) if (text.charCodeAt(k) === 10) line++;
    pos = to;
  };
  const expectEnd = (marker: string, what: string) => {
    const end = text.indexOf(marker, pos);
    if (end < 0) throw new XmlError(line, `unterminated ${what}`);
    return end;
  };
  const skipSpace = () => {
    let k = pos;
    while (k < text.length && /\s/.test(text[k]!)) k++;
    advance(k);
  };
  const readName = (what: string): string => {
    if (pos >= text.length || !NAME_START.test(text[pos]!))
      throw new XmlError(line, `expected ${what} name, found ${pos < text.length ? JSON.stringify(text[pos]) : "end of file"}`);
    let k = pos + 1;
    while (k < text.length && NAME_CHAR.test(text[k]!)) k++;
    const name = text.slice(pos, k);
    advance(k);
    return name;
  };

  if (text.charCodeAt(0) === 0xfeff) pos = 1; // byte-order mark

  while (pos < text.length) {
    const lt = text.indexOf("<", pos);
    const textEnd = lt < 0 ? text.length : lt;
    const between = text.slice(pos, textEnd);
    if (between.trim() !== "" && stack.length === 0)
      throw new XmlError(line, `text outside the root element: ${JSON.stringify(between.trim().slice(0, 40))}`);
    decodeEntities(between, line); // validates entity syntax in text too
    advance(textEnd);
    if (lt < 0) break;

    if (text.startsWith("<!--", pos)) {
      const end = expectEnd("-->", "comment (missing -->)");
      advance(end + 3);
      continue;
    }
    if (text.startsWith("<?", pos)) {
      const end = expectEnd("?>", "processing instruction (missing ?>)");
      const body = text.slice(pos + 2, end);
      if (!/^xml(\s|$)/.test(body) || root !== undefined)
        throw new XmlError(line, `unsupported processing instruction "<?${body.split(/\s/)[0]}"`);
      advance(end + 2);
      continue;
    }
    if (text.startsWith("<!", pos)) {
      throw new XmlError(line, `unsupported XML construct "${text.slice(pos, pos + 9)}" (DOCTYPE and CDATA are not part of URDF)`);
    }
    if (text.startsWith("</", pos)) {
      advance(pos + 2);
      const name = readName("closing tag");
      skipSpace();
      if (text[pos] !== ">") throw new XmlError(line, `malformed closing tag </${name}`);
      advance(pos + 1);
      const open = stack.pop();
      if (!open) throw new XmlError(line, `closing tag </${name}> without a matching opening tag`);
      if (open.name !== name) throw new XmlError(line, `closing tag </${name}> does not match <${open.name}> opened on line ${open.line}`);
      continue;
    }

    // Opening or self-closing tag.
    advance(pos + 1);
    const startLine = line;
    const name = readName("element");
    const element: XmlElement = { name, line: startLine, attributes: new Map(), children: [] };
    for (;;) {
      const before = pos;
      skipSpace();
      if (pos >= text.length) throw new XmlError(startLine, `unterminated tag <${name}`);
      if (text.startsWith("/>", pos)) {
        advance(pos + 2);
        attach(element);
        break;
      }
      if (text[pos] === ">") {
        advance(pos + 1);
        attach(element);
        stack.push(element);
        break;
      }
      if (pos === before) throw new XmlError(line, `expected whitespace before attribute in <${name}>`);
      const attrLine = line;
      const attrName = readName("attribute");
      skipSpace();
      if (text[pos] !== "=") throw new XmlError(line, `attribute "${attrName}" of <${name}> has no value (expected =)`);
      advance(pos + 1);
      skipSpace();
      const quote = text[pos];
      if (quote !== '"' && quote !== "'") throw new XmlError(line, `value of attribute "${attrName}" of <${name}> must be quoted`);
      const close = text.indexOf(quote, pos + 1);
      if (close < 0) throw new XmlError(attrLine, `unterminated value of attribute "${attrName}" of <${name}>`);
      const raw = text.slice(pos + 1, close);
      if (raw.includes("<")) throw new XmlError(attrLine, `"<" inside the value of attribute "${attrName}" of <${name}>`);
      if (element.attributes.has(attrName)) throw new XmlError(attrLine, `attribute "${attrName}" repeated in <${name}>`);
      element.attributes.set(attrName, { value: decodeEntities(raw, attrLine), line: attrLine });
      advance(close + 1);
    }
  }

  function attach(element: XmlElement) {
    const parent = stack[stack.length - 1];
    if (parent) {
      parent.children.push(element);
    } else {
      if (root !== undefined) throw new XmlError(element.line, `second root element <${element.name}> (only one is allowed)`);
      root = element;
    }
  }

  if (stack.length > 0) {
    const open = stack[stack.length - 1]!;
    throw new XmlError(line, `end of file inside <${open.name}> opened on line ${open.line}`);
  }
  if (!root) throw new XmlError(line, "no root element");
  return root;
}
