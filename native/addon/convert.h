/*
 * Conversions between JavaScript values and the idlc-generated C structs.
 *
 * JS -> C (publishing): every reader takes the value and a destination; an
 * absent (undefined) field keeps its zero default, as an unset field of a ROS
 * message does; a value of the wrong kind throws a TypeError naming the
 * message type and the field path, e.g.
 *   "sensor_msgs/msg/JointState: position[1] must be a number, got string".
 * Strings and sequence buffers are allocated from the publisher's arena.
 *
 * C -> JS (receiving): builders return NULL with a JS exception pending.
 */
#ifndef S2R_CONVERT_H
#define S2R_CONVERT_H

#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "s2r_msgs.h"

typedef struct conv {
  napi_env env;
  arena *arena;
  const char *type_name;
  char path[256];
  size_t path_len;
} conv;

typedef bool (*conv_read_fn)(conv *c, napi_value v, void *dst);

/* Throws "<type>: <path> <what>" and returns false. */
bool conv_fail(conv *c, const char *what, napi_value got);

/* Reads obj[name] into dst with `read` unless it is undefined. */
bool conv_field(conv *c, napi_value obj, const char *name, conv_read_fn read, void *dst);
bool conv_expect_object(conv *c, napi_value v);

bool read_i32(conv *c, napi_value v, void *dst);
bool read_u32(conv *c, napi_value v, void *dst);
bool read_u8(conv *c, napi_value v, void *dst);
bool read_string(conv *c, napi_value v, void *dst);          /* char ** */
bool read_f64_seq(conv *c, napi_value v, void *dst);         /* dds_sequence_double: number[] or Float64Array */
bool read_string_seq(conv *c, napi_value v, void *dst);      /* dds_sequence_string */
bool read_octet_seq(conv *c, napi_value v, void *dst);       /* dds_sequence_octet: Uint8Array or number[] */
bool read_header(conv *c, napi_value v, void *dst);          /* s2r_header */
/* Reads a JS array into a sequence of elem_size-byte elements, each with read_elem. */
bool read_array_of(conv *c, napi_value v, size_t elem_size, conv_read_fn read_elem, uint32_t *length, void **buffer);

napi_value js_f64_array(napi_env env, const double *v, uint32_t n);
napi_value js_string(napi_env env, const char *s);
napi_value js_header(napi_env env, const s2r_header *h);
/* obj[name] = value; false (exception pending) on failure or when value is NULL. */
bool js_set(napi_env env, napi_value obj, const char *name, napi_value value);
napi_value js_u32(napi_env env, uint32_t v);

#endif
