// Forced-include header for building faiss-node 0.5.1 against Debian 12's libfaiss-dev 1.7.3.
// faiss-node's source uses `faiss::idx_t`, which faiss only gained in 1.7.4; in 1.7.3 the type
// lives inside faiss::Index.
#pragma once
#include <faiss/Index.h>
namespace faiss {
using idx_t = faiss::Index::idx_t;
}
