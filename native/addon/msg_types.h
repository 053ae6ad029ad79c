/*
 * The ROS 2 message types the addon can publish and subscribe: the idlc topic
 * descriptor (whose type name, e.g. "sensor_msgs::msg::dds_::JointState_", is
 * what ROS 2 nodes announce) and the conversions to and from JS objects.
 */
#ifndef S2R_MSG_TYPES_H
#define S2R_MSG_TYPES_H

#include "convert.h"

typedef struct msg_type {
  const char *ros_name; /* "sensor_msgs/msg/JointState" */
  const dds_topic_descriptor_t *desc;
  /* Fills a zeroed sample; false with a JS exception pending. */
  bool (*from_js)(conv *c, napi_value v, void *sample);
  /* NULL with a JS exception pending. */
  napi_value (*to_js)(napi_env env, const void *sample);
} msg_type;

extern const msg_type MSG_TYPES[];
extern const size_t MSG_TYPE_COUNT;

const msg_type *msg_type_find(const char *ros_name);

#endif
