/** See cli/relaunch.js. */
export declare function relaunch(node: string, args: string[], what: string): void;
