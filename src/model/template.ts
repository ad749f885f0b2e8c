/**
 * The subset of Go text/template that Knative's domain-template and tag-template use: literal text, `{{.Field}}`
 * and `{{index .Labels "key"}}`. Anything else is rejected when the template is parsed, so a config-network that
 * Ferry cannot honour exactly is reported instead of producing different host names than Knative would.
 */
export type TemplateValues = Record<string, string | Record<string, string> | undefined>;

type Segment =
  | { type: 'text'; text: string }
  | { type: 'field'; field: string }
  | { type: 'index'; field: string; key: string };

export interface GoTemplate {
  readonly source: string;
  execute(values: TemplateValues): string;
}

const FIELD = /^\.([A-Za-z_][A-Za-z0-9_]*)$/;
const INDEX = /^index\s+\.([A-Za-z_][A-Za-z0-9_]*)\s+"((?:[^"\\]|\\.)*)"$/;

export function parseGoTemplate(source: string): GoTemplate {
  const segments: Segment[] = [];
  let rest = source;
  while (rest.length > 0) {
    const open = rest.indexOf('{{');
    if (open < 0) {
      segments.push({ type: 'text', text: rest });
      break;
    }
    if (open > 0) segments.push({ type: 'text', text: rest.slice(0, open) });
    const close = rest.indexOf('}}', open + 2);
    if (close < 0) throw new Error(`template ${JSON.stringify(source)}: unclosed action`);
    const action = rest.slice(open + 2, close).trim();
    rest = rest.slice(close + 2);
    const field = FIELD.exec(action);
    const index = INDEX.exec(action);
    if (field) segments.push({ type: 'field', field: field[1]! });
    else if (index) segments.push({ type: 'index', field: index[1]!, key: JSON.parse(`"${index[2]!}"`) as string });
    else throw new Error(`template ${JSON.stringify(source)}: action {{${action}}} is not supported (only {{.Field}} and {{index .Map "key"}})`);
  }
  return {
    source,
    execute(values: TemplateValues): string {
      return segments.map((segment) => {
        if (segment.type === 'text') return segment.text;
        if (!(segment.field in values)) throw new Error(`template ${JSON.stringify(source)}: can't evaluate field ${segment.field}`);
        const value = values[segment.field];
        if (segment.type === 'field') {
          if (typeof value === 'object') throw new Error(`template ${JSON.stringify(source)}: field ${segment.field} is a map; use index`);
          return value ?? '';
        }
        if (typeof value === 'string') throw new Error(`template ${JSON.stringify(source)}: can't index field ${segment.field}`);
        return value?.[segment.key] ?? '';
      }).join('');
    },
  };
}
