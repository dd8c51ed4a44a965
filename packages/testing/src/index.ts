export * from './free-port.js'
export * from './wait-for.js'
export * from './redis-server.js'
export * from './process.js'
