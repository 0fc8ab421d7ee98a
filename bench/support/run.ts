/**
 * Runs a benchmark's `main` with the steps that undo what it started (servers, temp dirs), which
 * run in reverse order at the end, on failure and on Ctrl-C, so no server outlives the run.
 */
export function runBench(main: (cleanups: Array<() => unknown>) => Promise<void>): void {
  const cleanups: Array<() => unknown> = [];
  const cleanUp = async (): Promise<void> => {
    for (const undo of cleanups.splice(0).reverse()) {
      try {
        await undo();
      } catch (err) {
        console.error("cleanup step failed:", err);
      }
    }
  };
  process.once("SIGINT", () => {
    console.error("\ninterrupted; cleaning up");
    void cleanUp().then(() => process.exit(130));
  });
  main(cleanups)
    .then(async () => {
      await cleanUp();
      process.exit(0);
    })
    .catch(async (err: unknown) => {
      console.error("\nbenchmark failed:", err);
      await cleanUp();
      process.exit(1);
    });
}
