/** An OData string literal: quoted, a quote inside doubled (`'O''Brien'`). */
export function quote(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
