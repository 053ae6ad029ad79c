#include "endpoints.h"

#include <stdlib.h>

endpoint *endpoints_find(addon_state *s, dds_entity_t handle, ep_kind kind) {
  for (endpoint *e = s->endpoints; e; e = e->next)
    if (e->entity == handle && e->kind == kind && handle > 0) return e;
  return NULL;
}

void endpoints_add(addon_state *s, endpoint *ep) {
  ep->next = s->endpoints;
  s->endpoints = ep;
}

static void unlink_endpoint(addon_state *s, endpoint *ep) {
  for (endpoint **p = &s->endpoints; *p; p = &(*p)->next)
    if (*p == ep) {
      *p = ep->next;
      ep->next = NULL;
      return;
    }
}

static void free_endpoint(endpoint *ep) {
  free(ep->sample);
  arena_free(&ep->arena);
  free(ep->topic_name);
  free(ep);
}

void endpoint_delete(addon_state *s, endpoint *ep) {
  if (ep->kind == EP_PARTICIPANT) {
    for (endpoint *e = s->endpoints, *next; e; e = next) {
      next = e->next;
      if (e != ep && e->participant == ep->entity) endpoint_delete(s, e);
    }
  }
  unlink_endpoint(s, ep);
  /* dds_delete waits for a listener call in progress, so after this no
     Cyclone thread touches ep or its threadsafe function. */
  if (ep->entity > 0) dds_delete(ep->entity);
  if (ep->topic > 0) dds_delete(ep->topic);
  ep->entity = 0;
  ep->topic = 0;
  if (ep->kind == EP_READER) {
    napi_release_threadsafe_function(ep->tsfn, napi_tsfn_abort);
    return;
  }
  free_endpoint(ep);
}

void endpoints_delete_all(addon_state *s) {
  /* Readers first: their threadsafe functions must be released before the
     environment goes, and deleting a participant would skip that. */
  for (endpoint *e = s->endpoints, *next; e; e = next) {
    next = e->next;
    if (e->kind == EP_READER) endpoint_delete(s, e);
  }
  while (s->endpoints) endpoint_delete(s, s->endpoints);
}

/* Runs on the JS thread once the threadsafe function is released or its
   environment shuts down. In the second case the reader may still exist. */
void reader_finalize(napi_env env, void *finalize_data, void *finalize_hint) {
  (void)env;
  addon_state *s = finalize_data;
  endpoint *ep = finalize_hint;
  if (ep->entity > 0) {
    unlink_endpoint(s, ep);
    dds_delete(ep->entity);
    if (ep->topic > 0) dds_delete(ep->topic);
    ep->entity = 0;
  }
  free_endpoint(ep);
}
