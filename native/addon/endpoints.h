/*
 * The DDS entities the addon created for one JS environment, found by their
 * Cyclone handle (the number JS holds). A handle that was deleted or never
 * existed is simply not found, so a stale JS handle gives an error instead of
 * touching freed memory.
 */
#ifndef S2R_ENDPOINTS_H
#define S2R_ENDPOINTS_H

#include <stdatomic.h>

#include "dds/dds.h"
#include "msg_types.h"

typedef enum { EP_PARTICIPANT, EP_WRITER, EP_READER } ep_kind;

typedef struct endpoint {
  ep_kind kind;
  dds_entity_t entity; /* participant, writer or reader; 0 once deleted */
  dds_entity_t participant;
  dds_entity_t topic;
  const msg_type *type;
  char *topic_name;
  /* writers: the sample reused by every write, and its string/sequence memory */
  void *sample;
  arena arena;
  /* readers: Cyclone's listener thread wakes the JS thread through tsfn */
  napi_threadsafe_function tsfn;
  atomic_int pending;
  struct endpoint *next;
} endpoint;

typedef struct addon_state {
  endpoint *endpoints;
} addon_state;

endpoint *endpoints_find(addon_state *s, dds_entity_t handle, ep_kind kind);
void endpoints_add(addon_state *s, endpoint *ep);
/* Deletes the DDS entities (a participant's endpoints first) and unregisters.
   Writers and participants are freed here; a reader is freed when its
   threadsafe function finalizes, since a JS wake-up may still be queued. */
void endpoint_delete(addon_state *s, endpoint *ep);
void endpoints_delete_all(addon_state *s);

/* Readers: threadsafe-function callbacks (see reader.c). */
void reader_on_data_available(dds_entity_t reader, void *arg);
void reader_dispatch(napi_env env, napi_value js_cb, void *context, void *data);
void reader_finalize(napi_env env, void *finalize_data, void *finalize_hint);

#endif
