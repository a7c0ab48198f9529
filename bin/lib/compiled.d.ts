// Types for compiled.js, for the TypeScript that imports it (bench/run.ts, tests).
export declare const MANIFEST: string;
export declare const SOURCE_DIRS: string[];
export declare const CONFIG_FILES: string[];
export declare function sourceStats(root: string, dirs?: string[]): Record<string, [number, number]>;
export declare function writeManifest(root: string, stats: Record<string, [number, number]>): void;
export declare function compiledFile(root: string, source: string, dirs?: string[]): string | undefined;
