// the tests' fakes and the devnet's (cli/devnet/eigendaFake.ts) share one small HTTP server helper
export { listen, readBody } from "../../cli/devnet/http.ts";

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
