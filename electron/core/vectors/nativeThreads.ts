// How FAISS's OpenMP threads wait, set before faiss-node (and the libgomp it links) is loaded:
// libgomp reads OMP_WAIT_POLICY once, when it is loaded. Its default lets every thread of a
// finished parallel region spin for a while; beside the other work of this process (a restore's
// decryption workers, a catalog check) on a 2-core machine that spinning took ~0.5 s of CPU per
// restore and slowed it by 20–30% (npm run bench, restore.full). PASSIVE threads sleep at once;
// a search pays a few microseconds to wake them. An operator's own setting is kept.
//
// Imported first by every module that imports faiss-node.
process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
export {};
