/**
 * Small structural parsers for the agent configs we ship (fluentd's directive syntax and
 * Fluent Bit's classic INI-like syntax), enough to check sections and required keys.
 */

export interface FluentdDirective {
  name: string;
  arg: string;
  params: Record<string, string>;
  children: FluentdDirective[];
  line: number;
}

export function parseFluentdConf(text: string): FluentdDirective[] {
  const root: FluentdDirective = { name: 'root', arg: '', params: {}, children: [], line: 0 };
  const stack = [root];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\s+#.*$/, '').trim();
    if (!line || line.startsWith('#')) return;
    const open = /^<([a-z_]+)(?:\s+([^>]*))?>$/.exec(line);
    const close = /^<\/([a-z_]+)>$/.exec(line);
    const top = stack.at(-1)!;
    if (open) {
      const d: FluentdDirective = {
        name: open[1]!,
        arg: open[2] ?? '',
        params: {},
        children: [],
        line: i + 1,
      };
      top.children.push(d);
      stack.push(d);
    } else if (close) {
      if (top.name !== close[1])
        throw new Error(`line ${i + 1}: </${close[1]}> closes <${top.name}>`);
      stack.pop();
    } else {
      const kv = /^(@?[a-z_]+)\s+(.+)$/.exec(line);
      if (!kv) throw new Error(`line ${i + 1}: cannot read "${line}"`);
      top.params[kv[1]!] = kv[2]!;
    }
  });
  if (stack.length !== 1) throw new Error(`<${stack.at(-1)!.name}> is never closed`);
  return root.children;
}

export interface FluentBitSection {
  name: string;
  entries: [string, string][];
}

export function parseFluentBitConf(text: string): FluentBitSection[] {
  const sections: FluentBitSection[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const header = /^\[([A-Z_]+)\]$/.exec(line);
    if (header) {
      sections.push({ name: header[1]!, entries: [] });
      return;
    }
    const kv = /^([A-Za-z0-9_.]+)\s+(.+)$/.exec(line);
    if (!kv || sections.length === 0) throw new Error(`line ${i + 1}: cannot read "${line}"`);
    sections.at(-1)!.entries.push([kv[1]!, kv[2]!]);
  });
  return sections;
}
