#include "arena.h"

#include <stdlib.h>
#include <string.h>

struct arena_overflow {
  struct arena_overflow *next;
};

static size_t round8(size_t n) { return (n + 7u) & ~(size_t)7u; }

void *arena_alloc(arena *a, size_t size) {
  size = round8(size ? size : 1);
  if (a->used + size <= a->cap) {
    void *p = a->buf + a->used;
    a->used += size;
    memset(p, 0, size);
    return p;
  }
  /* buf cannot move while earlier pointers into it are live, so spill into a
     separate block and let reset() merge the sizes. */
  struct arena_overflow *o = calloc(1, sizeof(struct arena_overflow) + 8 + size);
  if (!o) return NULL;
  o->next = a->overflow;
  a->overflow = o;
  a->overflow_bytes += size;
  return (char *)o + round8(sizeof(struct arena_overflow));
}

void arena_reset(arena *a) {
  if (a->overflow) {
    size_t want = a->cap + a->overflow_bytes;
    while (a->overflow) {
      struct arena_overflow *next = a->overflow->next;
      free(a->overflow);
      a->overflow = next;
    }
    a->overflow_bytes = 0;
    char *grown = realloc(a->buf, want);
    if (grown) {
      a->buf = grown;
      a->cap = want;
    }
  }
  a->used = 0;
}

void arena_free(arena *a) {
  arena_reset(a);
  free(a->buf);
  a->buf = NULL;
  a->cap = 0;
}
