import { loadCatalog } from "../lib/sql/catalog-queries";
import { createClassifier } from "../lib/sql/classify";
import { loadSqlParser } from "../lib/sql/parser";
import type { Classifier } from "./classifiers";
import { createQueryRunner } from "./upstream/simple-query";
import type { Upstream } from "./upstream/upstream";

/** Reads a resource's catalog over a connection of Airlock's own and builds its classifier; what `previous` knows of unchanged views is kept. */
export async function loadClassifier(upstream: Upstream, previous?: Classifier): Promise<Classifier> {
  await loadSqlParser();
  return createClassifier(await loadCatalog(createQueryRunner(upstream), previous?.catalog));
}
