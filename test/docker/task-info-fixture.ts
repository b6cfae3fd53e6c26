// A TaskInfo as a Mesos agent (1.x) delivers it in a LAUNCH event to a custom executor that
// Singularity scheduled: JSON with proto field names, enums as strings, the defaults the agent
// fills in (`shell: true`, `privileged: false`, `force_pull_image: false`) and fields our
// types do not know (`allocation_info`, `discovery`, `source`, `kill_policy` ...).
import type { TaskInfo } from '../../src/mesos/types';

const TASK_JSON = `{
  "name": "dev-test-app",
  "task_id": { "value": "nginx-2392676-1479746266455-1-dev_singularity_sick_sing-DEFAULT" },
  "agent_id": { "value": "0b3b6ea9-0c1e-4b2a-9d43-6e0b3b7f2a11-S3" },
  "resources": [
    { "name": "cpus", "type": "SCALAR", "scalar": { "value": 0.5 }, "role": "*", "allocation_info": { "role": "*" } },
    { "name": "mem", "type": "SCALAR", "scalar": { "value": 128 }, "role": "*", "allocation_info": { "role": "*" } },
    { "name": "ports", "type": "RANGES", "ranges": { "range": [{ "begin": 10270, "end": 10271 }] }, "role": "*", "allocation_info": { "role": "*" } }
  ],
  "executor": {
    "executor_id": { "value": "nginx-2392676-1479746266455-1-dev_singularity_sick_sing-DEFAULT" },
    "framework_id": { "value": "Singularity" },
    "type": "CUSTOM",
    "name": "sidecar-executor",
    "source": "dev-test-app",
    "command": {
      "shell": true,
      "value": "/opt/mesos/executor.sh",
      "environment": {
        "variables": [
          { "name": "TASK_HOST", "type": "VALUE", "value": "beowulf.example.com" },
          { "name": "TASK_ID", "type": "VALUE", "value": "nginx-2392676-1479746266455-1-dev_singularity_sick_sing-DEFAULT" },
          { "name": "EXECUTOR_SIDECAR_MAX_FAILS", "type": "VALUE", "value": "5" }
        ]
      },
      "uris": []
    },
    "resources": [
      { "name": "cpus", "type": "SCALAR", "scalar": { "value": 0.1 }, "role": "*" }
    ]
  },
  "container": {
    "type": "DOCKER",
    "volumes": [
      { "container_path": "/tmp/somewhere", "host_path": "/tmp/elsewhere", "mode": "RO" },
      { "container_path": "/tmp/foo", "host_path": "/tmp/bar", "mode": "RW" }
    ],
    "docker": {
      "image": "foo/foo:1.0.0",
      "network": "BRIDGE",
      "privileged": false,
      "force_pull_image": false,
      "port_mappings": [
        { "host_port": 0, "container_port": 8080, "protocol": "tcp" },
        { "host_port": 10270, "container_port": 443, "protocol": "tcp" },
        { "host_port": 10271, "container_port": 9090, "protocol": "tcp,udp" }
      ],
      "parameters": [
        { "key": "env", "value": "SOMETHING=123=123" },
        { "key": "label", "value": "ANYTHING=123=123" },
        { "key": "label", "value": "ServiceName=dev-test-app" },
        { "key": "label", "value": "EnvironmentName=dev" },
        { "key": "label", "value": "HealthCheck=HttpGet" },
        { "key": "cap-add", "value": "NET_ADMIN" },
        { "key": "cap-drop", "value": "MKNOD" },
        { "key": "volume-driver", "value": "driver_test" }
      ]
    }
  },
  "labels": { "labels": [{ "key": "requestId", "value": "dev-test-app" }] },
  "discovery": { "visibility": "FRAMEWORK", "name": "dev-test-app" },
  "kill_policy": { "grace_period": { "nanoseconds": 5000000000 } }
}`;

/** The container name the Go original computes for this task id (its container_test.go). */
export const FIXTURE_CONTAINER_NAME = 'mesos-f317e960-8579-5258-95c8-96ccca14f317';

/** A fresh copy each call, so a test may change it freely. */
export function fixtureTask(): TaskInfo {
  return JSON.parse(TASK_JSON) as TaskInfo;
}

/** The fixture's `container.docker` (always present in the fixture). */
export function dockerOf(task: TaskInfo): NonNullable<NonNullable<TaskInfo['container']>['docker']> {
  const docker = task.container?.docker;
  if (docker === undefined) throw new Error('fixture has no container.docker');
  return docker;
}
