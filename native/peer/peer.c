/*
 * s2r-ros2-peer: a plain Cyclone DDS program (no ROS installed) that speaks the
 * ROS 2 conventions s2r uses, to test and benchmark s2r's ROS 2 transport
 * against an independent implementation: its samples are serialized by the
 * idlc-generated type descriptors, not by s2r's addon code.
 *
 *   --mode publish  publish sensor_msgs/JointState on --state-topic at --rate Hz
 *                   (--count messages, 0 = until stopped) and print each one;
 *                   print every std_msgs/Float64MultiArray received on
 *                   --command-topic.
 *   --mode echo     for every JointState received, publish a Float64MultiArray on
 *                   --command-topic with data = [stamp.sec, stamp.nanosec,
 *                   position..., velocity..., effort...], data_offset = 2 and one
 *                   layout dimension per joint {label: name, size: 1, stride: 1};
 *                   republish every Image received on --image-in on --image-out.
 *
 * Output: one JSON object per line on stdout ({"event":"ready"} once the
 * endpoints exist; "published"/"received" events unless --quiet). The peer
 * exits when stdin closes (its parent went away) or on SIGINT/SIGTERM.
 * QoS on every endpoint: reliable, volatile, keep last --depth (ROS 2 default).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dds/dds.h"
#include "s2r_msgs.h"

#define MAX_TAKE 16

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

/* Reads stdin until EOF so the peer never outlives the test that started it. */
static void *watch_stdin(void *arg) {
  (void)arg;
  char buf[256];
  for (;;) {
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EINTR)) break;
  }
  stop_requested = 1;
  return NULL;
}

struct options {
  const char *mode;
  int domain;
  double rate;
  long count;
  int depth;
  int quiet;
  const char *state_topic;
  const char *command_topic;
  const char *image_in;
  const char *image_out;
};

static void usage_exit(const char *msg) {
  fprintf(stderr, "s2r-ros2-peer: %s\n", msg);
  fprintf(stderr,
          "usage: s2r-ros2-peer --mode publish|echo [--domain N] [--rate HZ] [--count N] [--depth N] [--quiet]\n"
          "       [--state-topic /joint_states] [--command-topic /arm_voltage_controller/commands]\n"
          "       [--image-in /s2r_peer/image_in] [--image-out /s2r_peer/image_out]\n");
  exit(2);
}

static long parse_long(const char *flag, const char *text) {
  char *end;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno || *end || end == text) {
    fprintf(stderr, "s2r-ros2-peer: %s expects an integer, got \"%s\"\n", flag, text);
    exit(2);
  }
  return v;
}

static void parse_options(int argc, char **argv, struct options *o) {
  const char *env_domain = getenv("ROS_DOMAIN_ID");
  o->mode = NULL;
  o->domain = env_domain && *env_domain ? (int)parse_long("ROS_DOMAIN_ID", env_domain) : 0;
  o->rate = 100.0;
  o->count = 0;
  o->depth = 10;
  o->quiet = 0;
  o->state_topic = "/joint_states";
  o->command_topic = "/arm_voltage_controller/commands";
  o->image_in = "/s2r_peer/image_in";
  o->image_out = "/s2r_peer/image_out";
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--quiet") == 0) {
      o->quiet = 1;
      continue;
    }
    if (i + 1 >= argc) usage_exit("missing value after an option");
    const char *v = argv[++i];
    if (strcmp(a, "--mode") == 0) o->mode = v;
    else if (strcmp(a, "--domain") == 0) o->domain = (int)parse_long(a, v);
    else if (strcmp(a, "--rate") == 0) o->rate = (double)parse_long(a, v);
    else if (strcmp(a, "--count") == 0) o->count = parse_long(a, v);
    else if (strcmp(a, "--depth") == 0) o->depth = (int)parse_long(a, v);
    else if (strcmp(a, "--state-topic") == 0) o->state_topic = v;
    else if (strcmp(a, "--command-topic") == 0) o->command_topic = v;
    else if (strcmp(a, "--image-in") == 0) o->image_in = v;
    else if (strcmp(a, "--image-out") == 0) o->image_out = v;
    else usage_exit("unknown option");
  }
  if (!o->mode || (strcmp(o->mode, "publish") != 0 && strcmp(o->mode, "echo") != 0)) usage_exit("--mode must be publish or echo");
  if (o->rate <= 0) usage_exit("--rate must be positive");
  if (o->depth < 1) usage_exit("--depth must be at least 1");
}

/* ---------- JSON output ---------- */

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
    if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
    else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
    else fputc(*p, f);
  }
  fputc('"', f);
}

/* %.17g reproduces every double exactly, so tests can compare with ===.
   JSON has no NaN or infinities: those are written as the strings "NaN",
   "Infinity" and "-Infinity". */
static void json_doubles(FILE *f, const double *v, uint32_t n) {
  fputc('[', f);
  for (uint32_t i = 0; i < n; i++) {
    if (i) fputc(',', f);
    if (isnan(v[i])) fputs("\"NaN\"", f);
    else if (isinf(v[i])) fputs(v[i] > 0 ? "\"Infinity\"" : "\"-Infinity\"", f);
    else fprintf(f, "%.17g", v[i]);
  }
  fputc(']', f);
}

static void json_header(FILE *f, const s2r_header *h) {
  fprintf(f, "{\"stamp\":{\"sec\":%d,\"nanosec\":%u},\"frame_id\":", h->stamp.sec, h->stamp.nanosec);
  json_string(f, h->frame_id);
  fputc('}', f);
}

static void print_joint_state(const char *event, const s2r_joint_state *m) {
  printf("{\"event\":\"%s\",\"type\":\"sensor_msgs/msg/JointState\",\"msg\":{\"header\":", event);
  json_header(stdout, &m->header);
  printf(",\"name\":[");
  for (uint32_t i = 0; i < m->name._length; i++) {
    if (i) putchar(',');
    json_string(stdout, m->name._buffer[i]);
  }
  printf("],\"position\":");
  json_doubles(stdout, m->position._buffer, m->position._length);
  printf(",\"velocity\":");
  json_doubles(stdout, m->velocity._buffer, m->velocity._length);
  printf(",\"effort\":");
  json_doubles(stdout, m->effort._buffer, m->effort._length);
  printf("}}\n");
}

static void print_float64_multi_array(const char *event, const s2r_float64_multi_array *m) {
  printf("{\"event\":\"%s\",\"type\":\"std_msgs/msg/Float64MultiArray\",\"msg\":{\"layout\":{\"dim\":[", event);
  for (uint32_t i = 0; i < m->layout.dim._length; i++) {
    const s2r_multi_array_dimension *d = &m->layout.dim._buffer[i];
    printf("%s{\"label\":", i ? "," : "");
    json_string(stdout, d->label);
    printf(",\"size\":%u,\"stride\":%u}", d->size, d->stride);
  }
  printf("],\"data_offset\":%u},\"data\":", m->layout.data_offset);
  json_doubles(stdout, m->data._buffer, m->data._length);
  printf("}}\n");
}

/* Image payloads are summarized (length + byte sum) rather than dumped. */
static void print_image(const char *event, const s2r_image *m) {
  unsigned long long sum = 0;
  for (uint32_t i = 0; i < m->data._length; i++) sum += m->data._buffer[i];
  printf("{\"event\":\"%s\",\"type\":\"sensor_msgs/msg/Image\",\"msg\":{\"header\":", event);
  json_header(stdout, &m->header);
  printf(",\"height\":%u,\"width\":%u,\"encoding\":", m->height, m->width);
  json_string(stdout, m->encoding);
  printf(",\"is_bigendian\":%u,\"step\":%u,\"data_length\":%u,\"data_sum\":%llu}}\n", m->is_bigendian, m->step,
         m->data._length, sum);
}

/* ---------- DDS helpers ---------- */

static void check(dds_return_t rc, const char *what) {
  if (rc < 0) {
    fprintf(stderr, "s2r-ros2-peer: %s failed: %s\n", what, dds_strretcode(rc));
    exit(1);
  }
}

/* ROS 2 topic "/name" is DDS topic "rt/name". */
static dds_entity_t make_topic(dds_entity_t participant, const dds_topic_descriptor_t *desc, const char *ros_name) {
  if (ros_name[0] != '/') {
    fprintf(stderr, "s2r-ros2-peer: topic \"%s\" must be absolute (start with /)\n", ros_name);
    exit(2);
  }
  char dds_name[512];
  snprintf(dds_name, sizeof dds_name, "rt%s", ros_name);
  dds_entity_t t = dds_create_topic(participant, desc, dds_name, NULL, NULL);
  check(t, "dds_create_topic");
  return t;
}

static dds_qos_t *ros_default_qos(int depth) {
  dds_qos_t *q = dds_create_qos();
  dds_qset_reliability(q, DDS_RELIABILITY_RELIABLE, DDS_MSECS(100));
  dds_qset_durability(q, DDS_DURABILITY_VOLATILE);
  dds_qset_history(q, DDS_HISTORY_KEEP_LAST, depth);
  dds_data_representation_id_t xcdr1 = DDS_DATA_REPRESENTATION_XCDR1;
  dds_qset_data_representation(q, 1, &xcdr1);
  return q;
}

/* A read condition stays triggered while unread samples remain, so no wake-up is lost. */
static void attach_reader(dds_entity_t ws, dds_entity_t reader) {
  dds_entity_t cond = dds_create_readcondition(reader, DDS_ANY_STATE);
  check(cond, "dds_create_readcondition");
  check(dds_waitset_attach(ws, cond, (dds_attach_t)reader), "dds_waitset_attach");
}

static void now_stamp(s2r_time *t) {
  dds_time_t ns = dds_time();
  t->sec = (int32_t)(ns / DDS_NSECS_IN_SEC);
  t->nanosec = (uint32_t)(ns % DDS_NSECS_IN_SEC);
}

/* ---------- modes ---------- */

static void publish_joint_state(dds_entity_t writer, long k, int quiet) {
  char *names[2] = {"arm_joint", "pendulum_joint"};
  /* Values chosen to exercise signs, non-terminating binary fractions and an
     effort sequence that is empty on even messages. */
  double position[2] = {0.1 * (double)k, -1.0 / (double)(k + 3)};
  double velocity[2] = {1.5 * (double)k, 3.141592653589793};
  double effort[1] = {-(double)k - 0.125};
  s2r_joint_state m;
  memset(&m, 0, sizeof m);
  now_stamp(&m.header.stamp);
  m.header.frame_id = "s2r_peer";
  m.name._length = m.name._maximum = 2;
  m.name._buffer = names;
  m.position._length = m.position._maximum = 2;
  m.position._buffer = position;
  m.velocity._length = m.velocity._maximum = 2;
  m.velocity._buffer = velocity;
  m.effort._length = m.effort._maximum = (k % 2) ? 1 : 0;
  m.effort._buffer = effort;
  check(dds_write(writer, &m), "dds_write JointState");
  if (!quiet) print_joint_state("published", &m);
}

static void echo_joint_state(dds_entity_t writer, const s2r_joint_state *in) {
  uint32_t np = in->position._length, nv = in->velocity._length, ne = in->effort._length, nn = in->name._length;
  double *data = malloc(sizeof(double) * (2 + np + nv + ne));
  s2r_multi_array_dimension *dims = malloc(sizeof(s2r_multi_array_dimension) * (nn ? nn : 1));
  if (!data || !dims) {
    fprintf(stderr, "s2r-ros2-peer: out of memory\n");
    exit(1);
  }
  uint32_t n = 0;
  data[n++] = (double)in->header.stamp.sec;
  data[n++] = (double)in->header.stamp.nanosec;
  for (uint32_t i = 0; i < np; i++) data[n++] = in->position._buffer[i];
  for (uint32_t i = 0; i < nv; i++) data[n++] = in->velocity._buffer[i];
  for (uint32_t i = 0; i < ne; i++) data[n++] = in->effort._buffer[i];
  for (uint32_t i = 0; i < nn; i++) {
    dims[i].label = in->name._buffer[i];
    dims[i].size = 1;
    dims[i].stride = 1;
  }
  s2r_float64_multi_array out;
  memset(&out, 0, sizeof out);
  out.layout.dim._length = out.layout.dim._maximum = nn;
  out.layout.dim._buffer = dims;
  out.layout.data_offset = 2;
  out.data._length = out.data._maximum = n;
  out.data._buffer = data;
  check(dds_write(writer, &out), "dds_write Float64MultiArray");
  free(data);
  free(dims);
}

int main(int argc, char **argv) {
  struct options o;
  parse_options(argc, argv, &o);
  setvbuf(stdout, NULL, _IOLBF, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  pthread_t stdin_thread;
  pthread_create(&stdin_thread, NULL, watch_stdin, NULL);
  pthread_detach(stdin_thread);

  const int publish_mode = strcmp(o.mode, "publish") == 0;
  dds_entity_t participant = dds_create_participant((dds_domainid_t)o.domain, NULL, NULL);
  check(participant, "dds_create_participant");
  dds_qos_t *qos = ros_default_qos(o.depth);
  dds_entity_t state_topic = make_topic(participant, S2R_JOINT_STATE_DESC, o.state_topic);
  dds_entity_t command_topic = make_topic(participant, S2R_FLOAT64_MULTI_ARRAY_DESC, o.command_topic);
  dds_entity_t ws = dds_create_waitset(participant);
  check(ws, "dds_create_waitset");

  dds_entity_t state_writer = 0, command_reader = 0, state_reader = 0, command_writer = 0, image_reader = 0, image_writer = 0;
  if (publish_mode) {
    state_writer = dds_create_writer(participant, state_topic, qos, NULL);
    check(state_writer, "dds_create_writer");
    command_reader = dds_create_reader(participant, command_topic, qos, NULL);
    check(command_reader, "dds_create_reader");
    attach_reader(ws, command_reader);
  } else {
    state_reader = dds_create_reader(participant, state_topic, qos, NULL);
    check(state_reader, "dds_create_reader");
    command_writer = dds_create_writer(participant, command_topic, qos, NULL);
    check(command_writer, "dds_create_writer");
    dds_entity_t image_in = make_topic(participant, S2R_IMAGE_DESC, o.image_in);
    dds_entity_t image_out = make_topic(participant, S2R_IMAGE_DESC, o.image_out);
    image_reader = dds_create_reader(participant, image_in, qos, NULL);
    check(image_reader, "dds_create_reader");
    image_writer = dds_create_writer(participant, image_out, qos, NULL);
    check(image_writer, "dds_create_writer");
    attach_reader(ws, state_reader);
    attach_reader(ws, image_reader);
  }
  dds_delete_qos(qos);
  printf("{\"event\":\"ready\",\"mode\":\"%s\",\"domain\":%d}\n", o.mode, o.domain);

  const dds_duration_t period = (dds_duration_t)(1e9 / o.rate);
  dds_time_t next_publish = dds_time();
  long published = 0;
  void *samples[MAX_TAKE];
  dds_sample_info_t infos[MAX_TAKE];
  while (!stop_requested) {
    dds_time_t now = dds_time();
    const int publishing = publish_mode && (o.count == 0 || published < o.count);
    if (publishing && now >= next_publish) {
      publish_joint_state(state_writer, published++, o.quiet);
      next_publish += period;
      if (next_publish < now) next_publish = now; /* fell behind: don't burst */
      continue;
    }
    /* Wake for data, the next publish, or at least every 50 ms to notice a stop. */
    dds_time_t until = now + DDS_MSECS(50);
    if (publishing && next_publish < until) until = next_publish;
    dds_attach_t triggered[3];
    dds_return_t nt = dds_waitset_wait_until(ws, triggered, 3, until);
    check(nt, "dds_waitset_wait_until");
    for (dds_return_t t = 0; t < nt; t++) {
      dds_entity_t reader = (dds_entity_t)triggered[t];
      for (;;) {
        memset(samples, 0, sizeof samples);
        dds_return_t n = dds_take(reader, samples, infos, MAX_TAKE, MAX_TAKE);
        check(n, "dds_take");
        for (dds_return_t i = 0; i < n; i++) {
          if (!infos[i].valid_data) continue;
          if (reader == command_reader) {
            print_float64_multi_array("received", samples[i]);
          } else if (reader == state_reader) {
            if (!o.quiet) print_joint_state("received", samples[i]);
            echo_joint_state(command_writer, samples[i]);
          } else if (reader == image_reader) {
            if (!o.quiet) print_image("received", samples[i]);
            check(dds_write(image_writer, samples[i]), "dds_write Image");
          }
        }
        if (n > 0) dds_return_loan(reader, samples, n);
        if (n < MAX_TAKE) break;
      }
    }
  }
  dds_delete(participant);
  return 0;
}
