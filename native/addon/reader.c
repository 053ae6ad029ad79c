/*
 * Delivery of received samples to JS. Cyclone calls on_data_available on its
 * receive thread; that thread only flips `pending` and, if it was clear, wakes
 * the JS thread through the threadsafe function (non-blocking, unbounded
 * queue, so Cyclone's thread never waits on JS). On the JS thread, dispatch
 * clears `pending` and then takes until the reader is empty, so a sample
 * arriving at any point is either taken now or triggers a new wake-up.
 */
#include <stdio.h>
#include <string.h>

#include "endpoints.h"

#define TAKE_BATCH 32

void reader_on_data_available(dds_entity_t reader, void *arg) {
  (void)reader;
  endpoint *ep = arg;
  if (atomic_exchange(&ep->pending, 1) == 0) napi_call_threadsafe_function(ep->tsfn, NULL, napi_tsfn_nonblocking);
}

static void throw_take_error(napi_env env, endpoint *ep, dds_return_t rc) {
  char msg[512];
  snprintf(msg, sizeof msg, "s2r cyclone: dds_take on %s failed: %s", ep->topic_name, dds_strretcode(rc));
  napi_throw_error(env, NULL, msg);
}

static void ensure_exception(napi_env env, const char *what) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, NULL, what);
}

/* Nothing in JS called us, so an exception here has nobody to propagate to:
   hand it to process 'uncaughtException' like an error thrown from any event
   handler (a threadsafe-function callback would otherwise only log a warning). */
static void report_exception(napi_env env) {
  bool pending = false;
  napi_value error;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending && napi_get_and_clear_last_exception(env, &error) == napi_ok)
    napi_fatal_exception(env, error);
}

/* Converts one batch and returns its loan before calling JS, so a callback
   that disposes the subscription cannot leave a loan on a deleted reader.
   Returns the number taken, or -1 with a JS exception pending (for a failed
   take or conversion; exceptions from the callback are reported in place). */
static int dispatch_batch(napi_env env, napi_value js_cb, endpoint *ep) {
  void *samples[TAKE_BATCH];
  dds_sample_info_t infos[TAKE_BATCH];
  napi_value msgs[TAKE_BATCH];
  double source_ms[TAKE_BATCH];
  memset(samples, 0, sizeof samples);
  dds_return_t n = dds_take(ep->entity, samples, infos, TAKE_BATCH, TAKE_BATCH);
  if (n < 0) {
    throw_take_error(env, ep, n);
    return -1;
  }
  int m = 0;
  bool ok = true;
  for (dds_return_t i = 0; i < n && ok; i++) {
    if (!infos[i].valid_data) continue; /* a writer went away: no payload */
    msgs[m] = ep->type->to_js(env, samples[i]);
    if (!msgs[m]) ok = false;
    source_ms[m++] = (double)infos[i].source_timestamp / 1e6;
  }
  if (n > 0) dds_return_loan(ep->entity, samples, n);
  if (!ok) {
    ensure_exception(env, "s2r cyclone: could not convert a received sample to JS");
    return -1;
  }
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  for (int j = 0; j < m; j++) {
    napi_value args[2] = {msgs[j], NULL};
    if (napi_create_double(env, source_ms[j], &args[1]) != napi_ok) return -1;
    /* A callback that throws does not stop delivery of the other messages
       (if the process survives its uncaughtException). */
    if (napi_call_function(env, undefined, js_cb, 2, args, NULL) != napi_ok) report_exception(env);
    if (ep->entity <= 0) return 0; /* disposed from inside the callback */
  }
  return (int)n;
}

void reader_dispatch(napi_env env, napi_value js_cb, void *context, void *data) {
  (void)data;
  endpoint *ep = context;
  if (!env || !js_cb || ep->entity <= 0) return;
  atomic_store(&ep->pending, 0);
  for (;;) {
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    int n = dispatch_batch(env, js_cb, ep);
    if (n < 0) report_exception(env);
    napi_close_handle_scope(env, scope);
    if (n < TAKE_BATCH || ep->entity <= 0) return;
  }
}
