/*
 * The ROS 2 message types s2r exchanges over DDS, as C structs generated
 * by Cyclone's idlc from native/idl (build/native/gen), under short names so
 * the addon and the test peer read naturally.
 */
#ifndef S2R_MSGS_H
#define S2R_MSGS_H

#include "sensor_msgs/msg/JointState.h"
#include "sensor_msgs/msg/Image.h"
#include "sensor_msgs/msg/CameraInfo.h"
#include "sensor_msgs/msg/CompressedImage.h"
#include "std_msgs/msg/Float64MultiArray.h"

typedef builtin_interfaces_msg_dds__Time_ s2r_time;
typedef std_msgs_msg_dds__Header_ s2r_header;
typedef sensor_msgs_msg_dds__JointState_ s2r_joint_state;
typedef std_msgs_msg_dds__MultiArrayDimension_ s2r_multi_array_dimension;
typedef std_msgs_msg_dds__Float64MultiArray_ s2r_float64_multi_array;
typedef sensor_msgs_msg_dds__Image_ s2r_image;
typedef sensor_msgs_msg_dds__CameraInfo_ s2r_camera_info;
typedef sensor_msgs_msg_dds__CompressedImage_ s2r_compressed_image;

#define S2R_JOINT_STATE_DESC (&sensor_msgs_msg_dds__JointState__desc)
#define S2R_FLOAT64_MULTI_ARRAY_DESC (&std_msgs_msg_dds__Float64MultiArray__desc)
#define S2R_IMAGE_DESC (&sensor_msgs_msg_dds__Image__desc)
#define S2R_CAMERA_INFO_DESC (&sensor_msgs_msg_dds__CameraInfo__desc)
#define S2R_COMPRESSED_IMAGE_DESC (&sensor_msgs_msg_dds__CompressedImage__desc)

#endif
