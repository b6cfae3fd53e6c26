import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containerStatusFor } from '../../src/executor/container-status';
import type { TaskInfo } from '../../src/mesos/types';

const task = (network_infos?: unknown[]): TaskInfo => ({ task_id: { value: 't' }, container: { type: 'DOCKER', network_infos } as TaskInfo['container'] });

describe('containerStatusFor', () => {
  it('no addresses (host networking): no container_status', () => {
    assert.equal(containerStatusFor(task(), []), undefined);
  });

  it('one NetworkInfo: the IPv4 address, then the IPv6 one with its protocol', () => {
    assert.deepEqual(containerStatusFor(task(), [{ ip: '172.17.0.2', family: 'IPv4' }, { ip: 'fd00::2', family: 'IPv6' }]), {
      network_infos: [{ ip_addresses: [{ ip_address: '172.17.0.2' }, { protocol: 'IPv6', ip_address: 'fd00::2' }] }],
    });
  });

  it("copies the task's first network_info (its addresses replaced), only mesos.proto's fields", () => {
    const declared = { name: 'user-net', ip_addresses: [{ protocol: 'IPv4' }], groups: ['g'], labels: { labels: [{ key: 'k', value: 'v' }] }, x_new_field: 1 };
    assert.deepEqual(containerStatusFor(task([declared, { name: 'second' }]), [{ ip: '10.0.0.5', family: 'IPv4' }]), {
      network_infos: [{ name: 'user-net', groups: ['g'], labels: { labels: [{ key: 'k', value: 'v' }] }, ip_addresses: [{ ip_address: '10.0.0.5' }] }],
    });
  });
});
