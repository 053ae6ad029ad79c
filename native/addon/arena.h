/*
 * A bump allocator for the strings and sequence buffers of one outgoing
 * sample. dds_write serializes synchronously, so everything is released at
 * once afterwards; reset() keeps the memory, so a publisher sending the same
 * shape of message every tick stops allocating after the first one.
 */
#ifndef S2R_ARENA_H
#define S2R_ARENA_H

#include <stddef.h>

struct arena_overflow;

typedef struct arena {
  char *buf;
  size_t cap;
  size_t used;
  struct arena_overflow *overflow; /* blocks taken while buf was full */
  size_t overflow_bytes;
} arena;

/* NULL when out of memory. Memory is 8-byte aligned and zero-filled. */
void *arena_alloc(arena *a, size_t size);
/* Forget every allocation; grows buf to fit what the last message needed. */
void arena_reset(arena *a);
void arena_free(arena *a);

#endif
