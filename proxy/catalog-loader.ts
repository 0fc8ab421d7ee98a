import { loadCatalog } from "../lib/sql/catalog-queries";
import { createClassifier } from "../lib/sql/classify";
import { loadSqlParser } from "../lib/sql/parser";
import type { Classifier } from "./classifiers";
import { createQueryRunner } from "./upstream/simple-query";
import type { Upstream } from "./upstream/upstream";

/** Reads a resource's catalog over a connection of Airlock's own and builds its classifier. */
export async function loadClassifier(upstream: Upstream): Promise<Classifier> {
  await loadSqlParser();
  return createClassifier(await loadCatalog(createQueryRunner(upstream)));
}
