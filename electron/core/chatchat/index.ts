// The Langchain-Chatchat rescue domain: inspect a Chatchat store, read its docstore, import its
// knowledge into Lifeline. See DESIGN.md "Langchain-Chatchat stores".
export { inspectChatchat, SELF_SEARCH_SAMPLE, NORM_TOLERANCE } from './inspect.js';
export { readChatchatDocuments } from './documents.js';
export { importChatchat } from './import.js';
export { PickleError, decodeFaissPickle, unpickle } from './pickle.js';
export type * from './types.js';
export { PROBLEM_CODES } from './types.js';
