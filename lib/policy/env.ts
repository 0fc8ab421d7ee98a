export type Env = Record<string, string | undefined>;

/** `${NAME}` references, so secrets stay in the environment and out of the file. */
export function expandEnv(value: string, env: Env): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const v = env[name];
    if (v === undefined || v === "") throw new Error(`environment variable ${name} is not set`);
    return v;
  });
}
