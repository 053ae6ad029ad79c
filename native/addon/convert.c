#include "convert.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---------- error reporting with a field path ---------- */

static void describe(napi_env env, napi_value v, char *out, size_t size) {
  napi_valuetype t;
  if (!v || napi_typeof(env, v, &t) != napi_ok) {
    snprintf(out, size, "an unreadable value");
    return;
  }
  switch (t) {
    case napi_number: {
      double d = 0;
      napi_get_value_double(env, v, &d);
      snprintf(out, size, "%.17g", d);
      return;
    }
    case napi_string: snprintf(out, size, "a string"); return;
    case napi_boolean: snprintf(out, size, "a boolean"); return;
    case napi_null: snprintf(out, size, "null"); return;
    case napi_undefined: snprintf(out, size, "undefined"); return;
    case napi_bigint: snprintf(out, size, "a bigint"); return;
    case napi_object: {
      bool is_array = false;
      napi_is_array(env, v, &is_array);
      snprintf(out, size, is_array ? "an array" : "an object");
      return;
    }
    default: snprintf(out, size, "a %s", t == napi_function ? "function" : "symbol"); return;
  }
}

bool conv_fail(conv *c, const char *what, napi_value got) {
  bool pending = false;
  napi_is_exception_pending(c->env, &pending);
  if (pending) return false;
  char desc[64];
  char msg[512];
  if (got) {
    describe(c->env, got, desc, sizeof desc);
    snprintf(msg, sizeof msg, "%s: %s %s, got %s", c->type_name, c->path_len ? c->path : "message", what, desc);
  } else {
    snprintf(msg, sizeof msg, "%s: %s %s", c->type_name, c->path_len ? c->path : "message", what);
  }
  napi_throw_type_error(c->env, NULL, msg);
  return false;
}

/* Appends ".name" (or "name" at the root) to the path; returns the old length. */
static size_t path_push_name(conv *c, const char *name) {
  size_t old = c->path_len;
  int n = snprintf(c->path + old, sizeof c->path - old, old ? ".%s" : "%s", name);
  if (n > 0) c->path_len = old + (size_t)n < sizeof c->path ? old + (size_t)n : sizeof c->path - 1;
  return old;
}

static size_t path_push_index(conv *c, uint32_t index) {
  size_t old = c->path_len;
  int n = snprintf(c->path + old, sizeof c->path - old, "[%u]", index);
  if (n > 0) c->path_len = old + (size_t)n < sizeof c->path ? old + (size_t)n : sizeof c->path - 1;
  return old;
}

static void path_pop(conv *c, size_t old) {
  c->path_len = old;
  c->path[old] = 0;
}

bool conv_expect_object(conv *c, napi_value v) {
  napi_valuetype t;
  bool is_array = false;
  if (napi_typeof(c->env, v, &t) != napi_ok || t != napi_object || napi_is_array(c->env, v, &is_array) != napi_ok || is_array)
    return conv_fail(c, "must be an object", v);
  return true;
}

bool conv_field(conv *c, napi_value obj, const char *name, conv_read_fn read, void *dst) {
  napi_value v;
  napi_valuetype t;
  if (napi_get_named_property(c->env, obj, name, &v) != napi_ok) return conv_fail(c, "could not be read", NULL);
  if (napi_typeof(c->env, v, &t) != napi_ok) return conv_fail(c, "could not be read", NULL);
  if (t == napi_undefined) return true;
  size_t old = path_push_name(c, name);
  bool ok = read(c, v, dst);
  if (ok) path_pop(c, old);
  return ok;
}

/* ---------- scalars ---------- */

static bool read_number(conv *c, napi_value v, double *out) {
  napi_valuetype t;
  if (napi_typeof(c->env, v, &t) != napi_ok || t != napi_number) return conv_fail(c, "must be a number", v);
  napi_get_value_double(c->env, v, out);
  return true;
}

static bool read_integer(conv *c, napi_value v, double lo, double hi, const char *what, double *out) {
  if (!read_number(c, v, out)) return false;
  if (!(*out >= lo && *out <= hi) || floor(*out) != *out) return conv_fail(c, what, v);
  return true;
}

bool read_i32(conv *c, napi_value v, void *dst) {
  double d;
  if (!read_integer(c, v, -2147483648.0, 2147483647.0, "must be an integer in [-2147483648, 2147483647]", &d)) return false;
  *(int32_t *)dst = (int32_t)d;
  return true;
}

bool read_u32(conv *c, napi_value v, void *dst) {
  double d;
  if (!read_integer(c, v, 0.0, 4294967295.0, "must be an integer in [0, 4294967295]", &d)) return false;
  *(uint32_t *)dst = (uint32_t)d;
  return true;
}

bool read_u8(conv *c, napi_value v, void *dst) {
  double d;
  if (!read_integer(c, v, 0.0, 255.0, "must be an integer in [0, 255]", &d)) return false;
  *(uint8_t *)dst = (uint8_t)d;
  return true;
}

static bool read_f64(conv *c, napi_value v, void *dst) { return read_number(c, v, (double *)dst); }

bool read_string(conv *c, napi_value v, void *dst) {
  napi_valuetype t;
  size_t len = 0;
  if (napi_typeof(c->env, v, &t) != napi_ok || t != napi_string) return conv_fail(c, "must be a string", v);
  napi_get_value_string_utf8(c->env, v, NULL, 0, &len);
  char *s = arena_alloc(c->arena, len + 1);
  if (!s) return conv_fail(c, "does not fit in memory", NULL);
  napi_get_value_string_utf8(c->env, v, s, len + 1, &len);
  *(char **)dst = s;
  return true;
}

/* ---------- sequences ---------- */

bool read_array_of(conv *c, napi_value v, size_t elem_size, conv_read_fn read_elem, uint32_t *length, void **buffer) {
  bool is_array = false;
  if (napi_is_array(c->env, v, &is_array) != napi_ok || !is_array) return conv_fail(c, "must be an array", v);
  uint32_t n = 0;
  napi_get_array_length(c->env, v, &n);
  char *buf = arena_alloc(c->arena, elem_size * (n ? n : 1));
  if (!buf) return conv_fail(c, "does not fit in memory", NULL);
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    if (napi_get_element(c->env, v, i, &e) != napi_ok) return conv_fail(c, "could not be read", NULL);
    size_t old = path_push_index(c, i);
    if (!read_elem(c, e, buf + i * elem_size)) return false;
    path_pop(c, old);
  }
  *length = n;
  *buffer = buf;
  return true;
}

/* Typed arrays are copied in one memcpy; the fast path for reused publish buffers. */
static bool read_typed(conv *c, napi_value v, napi_typedarray_type want, size_t elem_size, uint32_t *length, void **buffer, bool *matched) {
  bool is_typed = false;
  *matched = false;
  if (napi_is_typedarray(c->env, v, &is_typed) != napi_ok || !is_typed) return true;
  napi_typedarray_type type;
  size_t n;
  void *data;
  napi_get_typedarray_info(c->env, v, &type, &n, &data, NULL, NULL);
  if (type != want && !(want == napi_uint8_array && type == napi_uint8_clamped_array)) return true;
  if (n > UINT32_MAX) return conv_fail(c, "is too long for a DDS sequence", NULL);
  void *buf = arena_alloc(c->arena, elem_size * (n ? n : 1));
  if (!buf) return conv_fail(c, "does not fit in memory", NULL);
  if (n) memcpy(buf, data, elem_size * n);
  *length = (uint32_t)n;
  *buffer = buf;
  *matched = true;
  return true;
}

bool read_f64_seq(conv *c, napi_value v, void *dst) {
  dds_sequence_double *s = dst;
  bool matched;
  if (!read_typed(c, v, napi_float64_array, sizeof(double), &s->_length, (void **)&s->_buffer, &matched)) return false;
  if (!matched && !read_array_of(c, v, sizeof(double), read_f64, &s->_length, (void **)&s->_buffer)) return false;
  s->_maximum = s->_length;
  s->_release = false;
  return true;
}

bool read_string_seq(conv *c, napi_value v, void *dst) {
  dds_sequence_string *s = dst;
  if (!read_array_of(c, v, sizeof(char *), read_string, &s->_length, (void **)&s->_buffer)) return false;
  s->_maximum = s->_length;
  s->_release = false;
  return true;
}

bool read_octet_seq(conv *c, napi_value v, void *dst) {
  dds_sequence_octet *s = dst;
  bool matched;
  if (!read_typed(c, v, napi_uint8_array, 1, &s->_length, (void **)&s->_buffer, &matched)) return false;
  if (!matched && !read_array_of(c, v, 1, read_u8, &s->_length, (void **)&s->_buffer)) return false;
  s->_maximum = s->_length;
  s->_release = false;
  return true;
}

/* ---------- std_msgs/Header ---------- */

static bool read_time(conv *c, napi_value v, void *dst) {
  s2r_time *t = dst;
  return conv_expect_object(c, v) && conv_field(c, v, "sec", read_i32, &t->sec) &&
         conv_field(c, v, "nanosec", read_u32, &t->nanosec);
}

bool read_header(conv *c, napi_value v, void *dst) {
  s2r_header *h = dst;
  return conv_expect_object(c, v) && conv_field(c, v, "stamp", read_time, &h->stamp) &&
         conv_field(c, v, "frame_id", read_string, &h->frame_id);
}

/* ---------- C -> JS ---------- */

bool js_set(napi_env env, napi_value obj, const char *name, napi_value value) {
  return value != NULL && napi_set_named_property(env, obj, name, value) == napi_ok;
}

napi_value js_u32(napi_env env, uint32_t v) {
  napi_value r;
  return napi_create_uint32(env, v, &r) == napi_ok ? r : NULL;
}

napi_value js_string(napi_env env, const char *s) {
  napi_value r;
  return napi_create_string_utf8(env, s ? s : "", NAPI_AUTO_LENGTH, &r) == napi_ok ? r : NULL;
}

napi_value js_f64_array(napi_env env, const double *v, uint32_t n) {
  napi_value arr;
  if (napi_create_array_with_length(env, n, &arr) != napi_ok) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    napi_value x;
    if (napi_create_double(env, v[i], &x) != napi_ok || napi_set_element(env, arr, i, x) != napi_ok) return NULL;
  }
  return arr;
}

napi_value js_header(napi_env env, const s2r_header *h) {
  napi_value header, stamp, sec;
  if (napi_create_object(env, &header) != napi_ok || napi_create_object(env, &stamp) != napi_ok ||
      napi_create_int32(env, h->stamp.sec, &sec) != napi_ok)
    return NULL;
  if (!js_set(env, stamp, "sec", sec) || !js_set(env, stamp, "nanosec", js_u32(env, h->stamp.nanosec)) ||
      !js_set(env, header, "stamp", stamp) || !js_set(env, header, "frame_id", js_string(env, h->frame_id)))
    return NULL;
  return header;
}
