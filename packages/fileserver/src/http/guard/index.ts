// The HTTP guard's surface for the servers that mount it (the control API; later front ends).
// Internals (the checks themselves) stay in their own files.

export { type BodyRateOptions, DEFAULT_BODY_RATE } from './body-rate.js';
export { type GuardOptions, guardServer } from './guard-server.js';
