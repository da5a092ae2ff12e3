import type { ImportObject, Root } from './gen/order-core.js';

/** The host interfaces of the world, keyed `oms:order-management/<name>` with or without `@0.1.0`. */
export type HostImports = {
  [K in keyof ImportObject as K extends `oms:order-management/${infer N}@0.1.0`
    ? N extends 'types' | 'events' ? never : `oms:order-management/${N}` | K
    : never]?: ImportObject[K];
};

/** `wasi:clocks/wall-clock`. */
export type WallClock = ImportObject['wasi:clocks/wall-clock@0.2.6'];

export declare const componentUrl: URL;
export declare const witUrl: URL;
export declare function compileCoreModule(name: string): Promise<WebAssembly.Module>;
export declare function wasiImports(options?: { wallClock?: WallClock }): Record<string, unknown>;
/** A fresh instance: `orders`, `shipments`, `returns`, `fulfillmentSaga`, `inbound`, `queries`. */
export declare function instantiate(
  imports: HostImports,
  options?: { wallClock?: WallClock; getCoreModule?: (name: string) => Promise<WebAssembly.Module> },
): Promise<Root>;
export type { ImportObject, Root };
