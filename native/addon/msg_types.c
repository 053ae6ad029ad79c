#include "msg_types.h"

#include <stdio.h>
#include <string.h>

/* ---------- sensor_msgs/msg/JointState ---------- */

static bool joint_state_from_js(conv *c, napi_value v, void *sample) {
  s2r_joint_state *m = sample;
  return conv_expect_object(c, v) && conv_field(c, v, "header", read_header, &m->header) &&
         conv_field(c, v, "name", read_string_seq, &m->name) &&
         conv_field(c, v, "position", read_f64_seq, &m->position) &&
         conv_field(c, v, "velocity", read_f64_seq, &m->velocity) &&
         conv_field(c, v, "effort", read_f64_seq, &m->effort);
}

static napi_value joint_state_to_js(napi_env env, const void *sample) {
  const s2r_joint_state *m = sample;
  napi_value o, names;
  if (napi_create_object(env, &o) != napi_ok || napi_create_array_with_length(env, m->name._length, &names) != napi_ok)
    return NULL;
  for (uint32_t i = 0; i < m->name._length; i++)
    if (napi_set_element(env, names, i, js_string(env, m->name._buffer[i])) != napi_ok) return NULL;
  if (!js_set(env, o, "header", js_header(env, &m->header)) || !js_set(env, o, "name", names) ||
      !js_set(env, o, "position", js_f64_array(env, m->position._buffer, m->position._length)) ||
      !js_set(env, o, "velocity", js_f64_array(env, m->velocity._buffer, m->velocity._length)) ||
      !js_set(env, o, "effort", js_f64_array(env, m->effort._buffer, m->effort._length)))
    return NULL;
  return o;
}

/* ---------- std_msgs/msg/Float64MultiArray ---------- */

static bool dimension_from_js(conv *c, napi_value v, void *dst) {
  s2r_multi_array_dimension *d = dst;
  return conv_expect_object(c, v) && conv_field(c, v, "label", read_string, &d->label) &&
         conv_field(c, v, "size", read_u32, &d->size) && conv_field(c, v, "stride", read_u32, &d->stride);
}

static bool dimensions_from_js(conv *c, napi_value v, void *dst) {
  dds_sequence_std_msgs_msg_dds__MultiArrayDimension_ *s = dst;
  if (!read_array_of(c, v, sizeof(s2r_multi_array_dimension), dimension_from_js, &s->_length, (void **)&s->_buffer))
    return false;
  s->_maximum = s->_length;
  s->_release = false;
  return true;
}

static bool layout_from_js(conv *c, napi_value v, void *dst) {
  std_msgs_msg_dds__MultiArrayLayout_ *l = dst;
  return conv_expect_object(c, v) && conv_field(c, v, "dim", dimensions_from_js, &l->dim) &&
         conv_field(c, v, "data_offset", read_u32, &l->data_offset);
}

static bool float64_multi_array_from_js(conv *c, napi_value v, void *sample) {
  s2r_float64_multi_array *m = sample;
  return conv_expect_object(c, v) && conv_field(c, v, "layout", layout_from_js, &m->layout) &&
         conv_field(c, v, "data", read_f64_seq, &m->data);
}

static napi_value float64_multi_array_to_js(napi_env env, const void *sample) {
  const s2r_float64_multi_array *m = sample;
  napi_value o, layout, dims;
  if (napi_create_object(env, &o) != napi_ok || napi_create_object(env, &layout) != napi_ok ||
      napi_create_array_with_length(env, m->layout.dim._length, &dims) != napi_ok)
    return NULL;
  for (uint32_t i = 0; i < m->layout.dim._length; i++) {
    const s2r_multi_array_dimension *d = &m->layout.dim._buffer[i];
    napi_value dim;
    if (napi_create_object(env, &dim) != napi_ok || !js_set(env, dim, "label", js_string(env, d->label)) ||
        !js_set(env, dim, "size", js_u32(env, d->size)) || !js_set(env, dim, "stride", js_u32(env, d->stride)) ||
        napi_set_element(env, dims, i, dim) != napi_ok)
      return NULL;
  }
  if (!js_set(env, layout, "dim", dims) || !js_set(env, layout, "data_offset", js_u32(env, m->layout.data_offset)) ||
      !js_set(env, o, "layout", layout) || !js_set(env, o, "data", js_f64_array(env, m->data._buffer, m->data._length)))
    return NULL;
  return o;
}

/* ---------- sensor_msgs/msg/Image ---------- */

static bool image_from_js(conv *c, napi_value v, void *sample) {
  s2r_image *m = sample;
  return conv_expect_object(c, v) && conv_field(c, v, "header", read_header, &m->header) &&
         conv_field(c, v, "height", read_u32, &m->height) && conv_field(c, v, "width", read_u32, &m->width) &&
         conv_field(c, v, "encoding", read_string, &m->encoding) &&
         conv_field(c, v, "is_bigendian", read_u8, &m->is_bigendian) &&
         conv_field(c, v, "step", read_u32, &m->step) && conv_field(c, v, "data", read_octet_seq, &m->data);
}

/* An octet sequence as a Node Buffer (a copy: the sample is returned to Cyclone after the callback); NULL on failure. */
static napi_value js_octets(napi_env env, const dds_sequence_octet *seq) {
  napi_value data;
  void *copy;
  if (napi_create_buffer_copy(env, seq->_length, seq->_length ? (const void *)seq->_buffer : (const void *)"", &copy, &data) != napi_ok) return NULL;
  return data;
}

static napi_value image_to_js(napi_env env, const void *sample) {
  const s2r_image *m = sample;
  napi_value o, data = js_octets(env, &m->data);
  if (!data || napi_create_object(env, &o) != napi_ok) return NULL;
  if (!js_set(env, o, "header", js_header(env, &m->header)) || !js_set(env, o, "height", js_u32(env, m->height)) ||
      !js_set(env, o, "width", js_u32(env, m->width)) || !js_set(env, o, "encoding", js_string(env, m->encoding)) ||
      !js_set(env, o, "is_bigendian", js_u32(env, m->is_bigendian)) || !js_set(env, o, "step", js_u32(env, m->step)) ||
      !js_set(env, o, "data", data))
    return NULL;
  return o;
}

/* ---------- sensor_msgs/msg/CompressedImage ---------- */

static bool compressed_image_from_js(conv *c, napi_value v, void *sample) {
  s2r_compressed_image *m = sample;
  return conv_expect_object(c, v) && conv_field(c, v, "header", read_header, &m->header) &&
         conv_field(c, v, "format", read_string, &m->format) && conv_field(c, v, "data", read_octet_seq, &m->data);
}

static napi_value compressed_image_to_js(napi_env env, const void *sample) {
  const s2r_compressed_image *m = sample;
  napi_value o, data = js_octets(env, &m->data);
  if (!data || napi_create_object(env, &o) != napi_ok) return NULL;
  if (!js_set(env, o, "header", js_header(env, &m->header)) || !js_set(env, o, "format", js_string(env, m->format)) || !js_set(env, o, "data", data))
    return NULL;
  return o;
}

/* ---------- sensor_msgs/msg/CameraInfo ---------- */

/* k, r and p are fixed-size arrays: read as a sequence, then exactly n numbers are required. */
static bool read_f64_fixed(conv *c, napi_value v, double *dst, uint32_t n) {
  dds_sequence_double s = {0};
  if (!read_f64_seq(c, v, &s)) return false;
  if (s._length != n) {
    char what[64];
    snprintf(what, sizeof what, "must hold exactly %u numbers", n);
    return conv_fail(c, what, v);
  }
  memcpy(dst, s._buffer, n * sizeof(double));
  return true;
}
static bool read_f64_9(conv *c, napi_value v, void *dst) { return read_f64_fixed(c, v, dst, 9); }
static bool read_f64_12(conv *c, napi_value v, void *dst) { return read_f64_fixed(c, v, dst, 12); }

static bool read_bool(conv *c, napi_value v, void *dst) {
  if (napi_get_value_bool(c->env, v, (bool *)dst) != napi_ok) return conv_fail(c, "must be true or false", v);
  return true;
}

static bool roi_from_js(conv *c, napi_value v, void *dst) {
  sensor_msgs_msg_dds__RegionOfInterest_ *r = dst;
  return conv_expect_object(c, v) && conv_field(c, v, "x_offset", read_u32, &r->x_offset) &&
         conv_field(c, v, "y_offset", read_u32, &r->y_offset) && conv_field(c, v, "height", read_u32, &r->height) &&
         conv_field(c, v, "width", read_u32, &r->width) && conv_field(c, v, "do_rectify", read_bool, &r->do_rectify);
}

static bool camera_info_from_js(conv *c, napi_value v, void *sample) {
  s2r_camera_info *m = sample;
  return conv_expect_object(c, v) && conv_field(c, v, "header", read_header, &m->header) &&
         conv_field(c, v, "height", read_u32, &m->height) && conv_field(c, v, "width", read_u32, &m->width) &&
         conv_field(c, v, "distortion_model", read_string, &m->distortion_model) &&
         conv_field(c, v, "d", read_f64_seq, &m->d) && conv_field(c, v, "k", read_f64_9, m->k) &&
         conv_field(c, v, "r", read_f64_9, m->r) && conv_field(c, v, "p", read_f64_12, m->p) &&
         conv_field(c, v, "binning_x", read_u32, &m->binning_x) && conv_field(c, v, "binning_y", read_u32, &m->binning_y) &&
         conv_field(c, v, "roi", roi_from_js, &m->roi);
}

static napi_value camera_info_to_js(napi_env env, const void *sample) {
  const s2r_camera_info *m = sample;
  napi_value o, roi, do_rectify;
  if (napi_create_object(env, &o) != napi_ok || napi_create_object(env, &roi) != napi_ok ||
      napi_get_boolean(env, m->roi.do_rectify, &do_rectify) != napi_ok)
    return NULL;
  if (!js_set(env, roi, "x_offset", js_u32(env, m->roi.x_offset)) || !js_set(env, roi, "y_offset", js_u32(env, m->roi.y_offset)) ||
      !js_set(env, roi, "height", js_u32(env, m->roi.height)) || !js_set(env, roi, "width", js_u32(env, m->roi.width)) ||
      !js_set(env, roi, "do_rectify", do_rectify))
    return NULL;
  if (!js_set(env, o, "header", js_header(env, &m->header)) || !js_set(env, o, "height", js_u32(env, m->height)) ||
      !js_set(env, o, "width", js_u32(env, m->width)) || !js_set(env, o, "distortion_model", js_string(env, m->distortion_model)) ||
      !js_set(env, o, "d", js_f64_array(env, m->d._buffer, m->d._length)) || !js_set(env, o, "k", js_f64_array(env, m->k, 9)) ||
      !js_set(env, o, "r", js_f64_array(env, m->r, 9)) || !js_set(env, o, "p", js_f64_array(env, m->p, 12)) ||
      !js_set(env, o, "binning_x", js_u32(env, m->binning_x)) || !js_set(env, o, "binning_y", js_u32(env, m->binning_y)) ||
      !js_set(env, o, "roi", roi))
    return NULL;
  return o;
}

/* ---------- registry ---------- */

const msg_type MSG_TYPES[] = {
    {"sensor_msgs/msg/JointState", S2R_JOINT_STATE_DESC, joint_state_from_js, joint_state_to_js},
    {"std_msgs/msg/Float64MultiArray", S2R_FLOAT64_MULTI_ARRAY_DESC, float64_multi_array_from_js, float64_multi_array_to_js},
    {"sensor_msgs/msg/Image", S2R_IMAGE_DESC, image_from_js, image_to_js},
    {"sensor_msgs/msg/CameraInfo", S2R_CAMERA_INFO_DESC, camera_info_from_js, camera_info_to_js},
    {"sensor_msgs/msg/CompressedImage", S2R_COMPRESSED_IMAGE_DESC, compressed_image_from_js, compressed_image_to_js},
};
const size_t MSG_TYPE_COUNT = sizeof MSG_TYPES / sizeof MSG_TYPES[0];

const msg_type *msg_type_find(const char *ros_name) {
  for (size_t i = 0; i < MSG_TYPE_COUNT; i++)
    if (strcmp(MSG_TYPES[i].ros_name, ros_name) == 0) return &MSG_TYPES[i];
  return NULL;
}
