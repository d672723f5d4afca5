// PostGraphile 5 as bench/run starts it: the amber preset over the read-only
// role, production mode (NODE_ENV), no GraphiQL, no watch, no explain.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";

export default {
  extends: [PostGraphileAmberPreset],
  // Conditions on columns without an index too: the requests filter members on
  // `is_active` and regions on `level`, as Fupin does.
  disablePlugins: ["PgIndexBehaviorsPlugin"],
  pgServices: [
    makePgService({
      connectionString: process.env.BENCH_READER_URL,
      schemas: ["public"],
    }),
  ],
  grafserv: {
    host: "127.0.0.1",
    port: Number(process.env.BENCH_POSTGRAPHILE_PORT),
    graphiql: false,
    watch: false,
  },
  grafast: { explain: false },
};
