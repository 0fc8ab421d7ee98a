// Worker threads do not inherit the parent's module hooks: register tsx, then run the writer.
import { register } from "tsx/esm/api";

register();
await import("./writer-thread.ts");
