/**
 * A rejected object, named so that an operator can find and fix it: where it came from (file and document, in
 * files mode), which object ('Kind namespace/name') and which field.
 */
export interface ValidationError {
  file?: string;
  /** 1-based position of the YAML document in its file. */
  document?: number;
  /** 'Kind namespace/name'; empty when the problem is not tied to one object (e.g. a YAML syntax error). */
  object: string;
  /** Dotted path in the object, e.g. 'spec.rules[0].http.paths[1].splits'; empty for the whole object. */
  field: string;
  message: string;
}

/** 'Kind namespace/name' (or 'Kind name' for cluster-scoped objects). */
export function describeObject(kind: string, metadata?: { name?: unknown; namespace?: unknown }): string {
  // Only strings: a hostile manifest's name may be any value, even one that cannot be turned into a string.
  const name = typeof metadata?.name === 'string' && metadata.name !== '' ? metadata.name : '<unnamed>';
  return typeof metadata?.namespace === 'string' && metadata.namespace !== '' ? `${kind} ${metadata.namespace}/${name}` : `${kind} ${name}`;
}

/** `file.yaml (document 2) Ingress default/hello: spec.rules[0].hosts: must not be empty` */
export function formatValidationError(error: ValidationError): string {
  const where = error.file ? `${error.file}${error.document !== undefined ? ` (document ${error.document})` : ''} ` : '';
  const object = error.object ? `${error.object}: ` : '';
  const field = error.field ? `${error.field}: ` : '';
  return `${where}${object}${field}${error.message}`;
}

/** Collects errors for one object while validators walk its fields. */
export class ErrorCollector {
  readonly errors: ValidationError[] = [];
  constructor(private readonly object: string) {}

  add(field: string, message: string): void {
    this.errors.push({ object: this.object, field, message });
  }
}
