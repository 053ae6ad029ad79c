/*
 * s2r_cyclone.node: the Node-API face of the Cyclone DDS transport. JS (see
 * robot/ros2/cyclone/native.ts for the typed view) works with plain numbers:
 * the Cyclone handles of participants, writers and readers. Topic names
 * arrive already mapped to DDS ("rt/joint_states") and QoS already resolved.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dds/dds.h"
#include "dds/version.h"
#include "endpoints.h"

#define MAX_ARGS 7

/* ---------- argument helpers ---------- */

typedef struct call {
  napi_env env;
  const char *fn;
  size_t argc;
  napi_value argv[MAX_ARGS];
  addon_state *state;
} call;

static bool begin(napi_env env, napi_callback_info info, const char *fn, size_t want, call *c) {
  c->env = env;
  c->fn = fn;
  c->argc = MAX_ARGS;
  if (napi_get_cb_info(env, info, &c->argc, c->argv, NULL, NULL) != napi_ok ||
      napi_get_instance_data(env, (void **)&c->state) != napi_ok || !c->state) {
    napi_throw_error(env, NULL, "s2r cyclone: addon not initialised");
    return false;
  }
  if (c->argc < want) {
    char msg[160];
    snprintf(msg, sizeof msg, "s2r cyclone: %s expects %zu arguments, got %zu", fn, want, c->argc);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  return true;
}

static bool fail(call *c, const char *what) {
  char msg[1024];
  snprintf(msg, sizeof msg, "s2r cyclone: %s: %s", c->fn, what);
  napi_throw_error(c->env, NULL, msg);
  return false;
}

static bool fail_dds(call *c, const char *op, const char *topic, dds_return_t rc) {
  char msg[512];
  snprintf(msg, sizeof msg, "%s%s%s failed: %s", op, topic ? " on " : "", topic ? topic : "", dds_strretcode(rc));
  return fail(c, msg);
}

static bool arg_int(call *c, size_t i, const char *name, int32_t lo, int32_t hi, int32_t *out) {
  napi_valuetype t;
  double d;
  char msg[200];
  if (napi_typeof(c->env, c->argv[i], &t) != napi_ok || t != napi_number) {
    snprintf(msg, sizeof msg, "%s must be a number", name);
    return fail(c, msg);
  }
  napi_get_value_double(c->env, c->argv[i], &d);
  if (!(d >= lo && d <= hi) || (double)(int32_t)d != d) {
    snprintf(msg, sizeof msg, "%s must be an integer in [%d, %d], got %.17g", name, lo, hi, d);
    return fail(c, msg);
  }
  *out = (int32_t)d;
  return true;
}

static bool arg_bool(call *c, size_t i, const char *name, bool *out) {
  if (napi_get_value_bool(c->env, c->argv[i], out) != napi_ok) {
    char msg[200];
    snprintf(msg, sizeof msg, "%s must be a boolean", name);
    return fail(c, msg);
  }
  return true;
}

/* Caller frees. */
static char *arg_string(call *c, size_t i, const char *name) {
  size_t len;
  if (napi_get_value_string_utf8(c->env, c->argv[i], NULL, 0, &len) != napi_ok) {
    char msg[200];
    snprintf(msg, sizeof msg, "%s must be a string", name);
    fail(c, msg);
    return NULL;
  }
  char *s = malloc(len + 1);
  if (!s) {
    fail(c, "out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(c->env, c->argv[i], s, len + 1, &len);
  return s;
}

static endpoint *arg_endpoint(call *c, size_t i, ep_kind kind, const char *what) {
  int32_t handle;
  if (!arg_int(c, i, what, 1, INT32_MAX, &handle)) return NULL;
  endpoint *ep = endpoints_find(c->state, handle, kind);
  if (!ep) {
    char msg[200];
    snprintf(msg, sizeof msg, "no live %s with handle %d (already disposed?)", what, handle);
    fail(c, msg);
  }
  return ep;
}

static napi_value number(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

static napi_value undefined(napi_env env) {
  napi_value r;
  napi_get_undefined(env, &r);
  return r;
}

/* ---------- QoS: ROS 2 profile -> DDS ---------- */

static dds_qos_t *make_qos(bool reliable, bool transient_local, int32_t depth) {
  dds_qos_t *q = dds_create_qos();
  dds_qset_reliability(q, reliable ? DDS_RELIABILITY_RELIABLE : DDS_RELIABILITY_BEST_EFFORT, DDS_MSECS(100));
  dds_qset_durability(q, transient_local ? DDS_DURABILITY_TRANSIENT_LOCAL : DDS_DURABILITY_VOLATILE);
  dds_qset_history(q, DDS_HISTORY_KEEP_LAST, depth);
  /* ROS 2 Humble's rmw_cyclonedds_cpp speaks plain XCDR1 only. */
  dds_data_representation_id_t xcdr1 = DDS_DATA_REPRESENTATION_XCDR1;
  dds_qset_data_representation(q, 1, &xcdr1);
  return q;
}

/* ---------- functions ---------- */

static napi_value fn_version(napi_env env, napi_callback_info info) {
  (void)info;
  return js_string(env, DDS_VERSION);
}

static napi_value fn_message_types(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value arr;
  napi_create_array_with_length(env, MSG_TYPE_COUNT, &arr);
  for (size_t i = 0; i < MSG_TYPE_COUNT; i++) napi_set_element(env, arr, (uint32_t)i, js_string(env, MSG_TYPES[i].ros_name));
  return arr;
}

/* createParticipant(domainId) -> handle */
static napi_value fn_create_participant(napi_env env, napi_callback_info info) {
  call c;
  int32_t domain;
  if (!begin(env, info, "createParticipant", 1, &c) || !arg_int(&c, 0, "domainId", 0, 232, &domain)) return NULL;
  dds_entity_t p = dds_create_participant((dds_domainid_t)domain, NULL, NULL);
  if (p < 0) {
    char msg[300];
    snprintf(msg, sizeof msg,
             "dds_create_participant(domain %d) failed: %s (if CYCLONEDDS_URI is set, check that configuration)", domain,
             dds_strretcode(p));
    fail(&c, msg);
    return NULL;
  }
  endpoint *ep = calloc(1, sizeof *ep);
  if (!ep) {
    dds_delete(p);
    fail(&c, "out of memory");
    return NULL;
  }
  ep->kind = EP_PARTICIPANT;
  ep->entity = ep->participant = p;
  endpoints_add(c.state, ep);
  return number(env, p);
}

/* Shared by writers and readers: arguments (participant, ddsTopic, rosType,
   reliable, transientLocal, depth). Fills ep->participant/type/topic. */
static bool endpoint_common(call *c, endpoint *ep, dds_qos_t **qos) {
  endpoint *p = arg_endpoint(c, 0, EP_PARTICIPANT, "participant");
  if (!p) return false;
  char *type_name = arg_string(c, 2, "rosType");
  if (!type_name) return false;
  ep->type = msg_type_find(type_name);
  if (!ep->type) {
    char msg[700];
    size_t n = (size_t)snprintf(msg, sizeof msg, "unsupported message type \"%.200s\"; supported:", type_name);
    for (size_t i = 0; i < MSG_TYPE_COUNT && n < sizeof msg; i++)
      n += (size_t)snprintf(msg + n, sizeof msg - n, " %s", MSG_TYPES[i].ros_name);
    free(type_name);
    return fail(c, msg);
  }
  free(type_name);
  bool reliable, transient_local;
  int32_t depth;
  if (!(ep->topic_name = arg_string(c, 1, "ddsTopic")) || !arg_bool(c, 3, "reliable", &reliable) ||
      !arg_bool(c, 4, "transientLocal", &transient_local) || !arg_int(c, 5, "depth", 1, 1000000, &depth))
    return false;
  ep->participant = p->entity;
  ep->topic = dds_create_topic(p->entity, ep->type->desc, ep->topic_name, NULL, NULL);
  if (ep->topic < 0) {
    fail_dds(c, "dds_create_topic", ep->topic_name, ep->topic);
    ep->topic = 0;
    return false;
  }
  *qos = make_qos(reliable, transient_local, depth);
  return true;
}

static void abandon(endpoint *ep) {
  if (ep->topic > 0) dds_delete(ep->topic);
  free(ep->topic_name);
  free(ep->sample);
  free(ep);
}

/* createWriter(participant, ddsTopic, rosType, reliable, transientLocal, depth) -> handle */
static napi_value fn_create_writer(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, "createWriter", 6, &c)) return NULL;
  endpoint *ep = calloc(1, sizeof *ep);
  dds_qos_t *qos = NULL;
  if (!ep) {
    fail(&c, "out of memory");
    return NULL;
  }
  ep->kind = EP_WRITER;
  if (!endpoint_common(&c, ep, &qos)) {
    abandon(ep);
    return NULL;
  }
  ep->entity = dds_create_writer(ep->participant, ep->topic, qos, NULL);
  dds_delete_qos(qos);
  ep->sample = calloc(1, ep->type->desc->m_size);
  if (ep->entity < 0 || !ep->sample) {
    if (ep->entity < 0) fail_dds(&c, "dds_create_writer", ep->topic_name, ep->entity);
    else {
      dds_delete(ep->entity);
      fail(&c, "out of memory");
    }
    abandon(ep);
    return NULL;
  }
  endpoints_add(c.state, ep);
  return number(env, ep->entity);
}

/* write(writer, message) */
static napi_value fn_write(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, "write", 2, &c)) return NULL;
  endpoint *ep = arg_endpoint(&c, 0, EP_WRITER, "writer");
  if (!ep) return NULL;
  memset(ep->sample, 0, ep->type->desc->m_size);
  arena_reset(&ep->arena);
  conv cv = {.env = env, .arena = &ep->arena, .type_name = ep->type->ros_name, .path_len = 0};
  cv.path[0] = 0;
  if (!ep->type->from_js(&cv, c.argv[1], ep->sample)) return NULL;
  dds_return_t rc = dds_write(ep->entity, ep->sample);
  if (rc < 0) {
    fail_dds(&c, "dds_write", ep->topic_name, rc);
    return NULL;
  }
  return undefined(env);
}

/* createReader(participant, ddsTopic, rosType, reliable, transientLocal, depth,
   callback(message, sourceTimeMs)) -> handle */
static napi_value fn_create_reader(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, "createReader", 7, &c)) return NULL;
  napi_valuetype t;
  if (napi_typeof(env, c.argv[6], &t) != napi_ok || t != napi_function) {
    fail(&c, "callback must be a function");
    return NULL;
  }
  endpoint *ep = calloc(1, sizeof *ep);
  dds_qos_t *qos = NULL;
  if (!ep) {
    fail(&c, "out of memory");
    return NULL;
  }
  ep->kind = EP_READER;
  if (!endpoint_common(&c, ep, &qos)) {
    abandon(ep);
    return NULL;
  }
  napi_value resource_name = js_string(env, "s2r.cyclone.reader");
  if (napi_create_threadsafe_function(env, c.argv[6], NULL, resource_name, 0, 1, c.state, reader_finalize, ep,
                                      reader_dispatch, &ep->tsfn) != napi_ok) {
    dds_delete_qos(qos);
    abandon(ep);
    fail(&c, "could not create the threadsafe function");
    return NULL;
  }
  /* From here ep is freed by reader_finalize once the tsfn is released. */
  dds_listener_t *listener = dds_create_listener(NULL);
  dds_lset_data_available_arg(listener, reader_on_data_available, ep, true);
  dds_entity_t reader = dds_create_reader(ep->participant, ep->topic, qos, listener);
  dds_delete_listener(listener);
  dds_delete_qos(qos);
  if (reader < 0) {
    fail_dds(&c, "dds_create_reader", ep->topic_name, reader);
    dds_delete(ep->topic);
    ep->topic = 0;
    napi_release_threadsafe_function(ep->tsfn, napi_tsfn_abort);
    return NULL;
  }
  ep->entity = reader;
  endpoints_add(c.state, ep);
  return number(env, reader);
}

/* matchedCount(writerOrReader) -> remote endpoints currently matched */
static napi_value fn_matched_count(napi_env env, napi_callback_info info) {
  call c;
  int32_t handle;
  if (!begin(env, info, "matchedCount", 1, &c) || !arg_int(&c, 0, "handle", 1, INT32_MAX, &handle)) return NULL;
  endpoint *w = endpoints_find(c.state, handle, EP_WRITER);
  endpoint *r = w ? NULL : endpoints_find(c.state, handle, EP_READER);
  dds_return_t rc;
  uint32_t count = 0;
  if (w) {
    dds_publication_matched_status_t st;
    rc = dds_get_publication_matched_status(w->entity, &st);
    count = st.current_count;
  } else if (r) {
    dds_subscription_matched_status_t st;
    rc = dds_get_subscription_matched_status(r->entity, &st);
    count = st.current_count;
  } else {
    fail(&c, "no live writer or reader with that handle (already disposed?)");
    return NULL;
  }
  if (rc < 0) {
    fail_dds(&c, "dds_get_matched_status", (w ? w : r)->topic_name, rc);
    return NULL;
  }
  return number(env, count);
}

/* dispose(handle): participant (with everything it owns), writer or reader. Idempotent. */
static napi_value fn_dispose(napi_env env, napi_callback_info info) {
  call c;
  int32_t handle;
  if (!begin(env, info, "dispose", 1, &c) || !arg_int(&c, 0, "handle", 1, INT32_MAX, &handle)) return NULL;
  endpoint *ep = endpoints_find(c.state, handle, EP_READER);
  if (!ep) ep = endpoints_find(c.state, handle, EP_WRITER);
  if (!ep) ep = endpoints_find(c.state, handle, EP_PARTICIPANT);
  if (ep) endpoint_delete(c.state, ep);
  return undefined(env);
}

/* ---------- module ---------- */

static void state_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  addon_state *s = data;
  endpoints_delete_all(s);
  free(s);
}

NAPI_MODULE_INIT() {
  addon_state *s = calloc(1, sizeof *s);
  if (!s || napi_set_instance_data(env, s, state_finalize, NULL) != napi_ok) {
    napi_throw_error(env, NULL, "s2r cyclone: could not initialise");
    return NULL;
  }
  napi_property_descriptor props[] = {
      {"version", NULL, fn_version, NULL, NULL, NULL, napi_enumerable, NULL},
      {"messageTypes", NULL, fn_message_types, NULL, NULL, NULL, napi_enumerable, NULL},
      {"createParticipant", NULL, fn_create_participant, NULL, NULL, NULL, napi_enumerable, NULL},
      {"createWriter", NULL, fn_create_writer, NULL, NULL, NULL, napi_enumerable, NULL},
      {"write", NULL, fn_write, NULL, NULL, NULL, napi_enumerable, NULL},
      {"createReader", NULL, fn_create_reader, NULL, NULL, NULL, napi_enumerable, NULL},
      {"matchedCount", NULL, fn_matched_count, NULL, NULL, NULL, napi_enumerable, NULL},
      {"dispose", NULL, fn_dispose, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
