// The fake moved to cli/devnet/ (the chaos world runs it as its primary DA layer); the DA tests import it from here.
export * from "../../cli/devnet/eigendaFake.ts";
