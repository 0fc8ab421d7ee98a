// Loaded into every test file's process by run-tests.mjs. Node 20's --test-timeout times the
// whole file, not each test, so the default limit is set here instead: every test and hook that
// names no timeout of its own gets TEST_LIMIT_MS, and a hang fails with the test's name. A file
// whose tests are done but whose process stays alive (a socket or timer left open) fails too.
import { createRequire, syncBuiltinESMExports } from "node:module";

export const TEST_LIMIT_MS = 120_000;
const LINGER_LIMIT_MS = 30_000;

const nodeTest = createRequire(import.meta.url)("node:test");

const limited = (options) => ({ ...options, timeout: options?.timeout ?? TEST_LIMIT_MS });

function limitTest(original) {
  function test(name, options, fn) {
    if (typeof name === "function") return original(limited(undefined), name);
    if (typeof options === "function") return original(name, limited(undefined), options);
    return original(name, limited(options), fn);
  }
  return Object.assign(test, original); // keeps test.skip, test.todo, test.only
}

const limitHook = (original) => (fn, options) => original(fn, limited(options));

nodeTest.test = limitTest(nodeTest.test);
nodeTest.it = limitTest(nodeTest.it);
for (const hook of ["before", "after", "beforeEach", "afterEach"]) nodeTest[hook] = limitHook(nodeTest[hook]);
syncBuiltinESMExports();

nodeTest.after(() => {
  setTimeout(() => {
    console.error(`[test-limits] ${process.argv[1]}: its tests ended ${LINGER_LIMIT_MS / 1000} s ago, but an open handle keeps the process alive`);
    process.exit(1);
  }, LINGER_LIMIT_MS).unref();
});
