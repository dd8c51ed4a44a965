export declare const CODES_KEY: string
export declare function createProvider(): unknown
