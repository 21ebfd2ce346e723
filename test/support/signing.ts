/** The tests sign with the same code as `mh` and the benchmark; see src/simulator/signing.ts. */
export { signedHeaders } from '../../src/simulator/signing.js';
