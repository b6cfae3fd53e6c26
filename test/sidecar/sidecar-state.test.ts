import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serviceStatusIn, SIDECAR_STATUS_NAMES, type ServiceLookup } from '../../src/sidecar/sidecar-state';

const HOST = 'agent-1.example.com';
const ID = 'deadbeef0123';

function stateWith(status: unknown, extra: Record<string, unknown> = {}): unknown {
  return {
    Servers: {
      [HOST]: {
        Name: HOST,
        Services: {
          [ID]: {
            ID, Name: '/mesos-abc', Image: 'app:1', Created: '2024-01-02T03:04:05Z', Hostname: HOST,
            Ports: [{ Type: 'tcp', Port: 31000, ServicePort: 8080, IP: '10.0.0.1' }],
            Updated: '2024-01-02T03:04:06.123456789Z', ProxyMode: 'http', Status: status,
          },
          other0000000: { ID: 'other0000000', Status: 2 },
        },
        LastUpdated: '2024-01-02T03:04:06Z', LastChanged: '2024-01-02T03:04:06Z',
      },
      'agent-2.example.com': { Name: 'agent-2.example.com', Services: { [ID]: { Status: 2 } } },
    },
    LastChanged: '2024-01-02T03:04:06Z', ClusterName: 'default', Hostname: HOST,
    ...extra,
  };
}

function whyOf(result: ServiceLookup): string {
  assert.equal(result.kind, 'unknown');
  return result.kind === 'unknown' ? result.why : '';
}

describe('serviceStatusIn', () => {
  it('reads each of the five statuses with its name', () => {
    const expected = ['ALIVE', 'TOMBSTONE', 'UNHEALTHY', 'UNKNOWN', 'DRAINING'];
    assert.deepEqual([...SIDECAR_STATUS_NAMES], expected);
    for (let status = 0; status <= 4; status++) {
      assert.deepEqual(serviceStatusIn(stateWith(status), HOST, ID), { kind: 'status', status, name: expected[status] });
    }
  });

  it('looks only at our host: the same id elsewhere does not count', () => {
    assert.deepEqual(serviceStatusIn(stateWith(0), HOST, ID), { kind: 'status', status: 0, name: 'ALIVE' });
    assert.match(whyOf(serviceStatusIn(stateWith(0), 'agent-3.example.com', ID)), /host "agent-3.example.com" not found/);
  });

  it('matches the host exactly, as the Go original map lookup does', () => {
    assert.equal(serviceStatusIn(stateWith(2), HOST.toUpperCase(), ID).kind, 'unknown');
  });

  it('reports a missing service on a known host', () => {
    assert.match(whyOf(serviceStatusIn(stateWith(0), HOST, 'feedface0000')), /service feedface0000 not found on host "agent-1.example.com"/);
  });

  it('reports a host whose Services is null or absent as having no services', () => {
    const nullServices = { Servers: { [HOST]: { Name: HOST, Services: null } } };
    assert.match(whyOf(serviceStatusIn(nullServices, HOST, ID)), /host has no services/);
    assert.match(whyOf(serviceStatusIn({ Servers: { [HOST]: { Name: HOST } } }, HOST, ID)), /host has no services/);
  });

  it('says so when TASK_HOST is empty', () => {
    assert.match(whyOf(serviceStatusIn(stateWith(0), '', ID)), /TASK_HOST/);
  });

  it('never throws on shapes that are not Sidecar state', () => {
    const shapes: unknown[] = [
      undefined, null, 0, 'text', true, [], [stateWith(0)],
      {}, { Servers: null }, { Servers: [] }, { Servers: 'x' }, { servers: stateWith(0) },
      { Servers: { [HOST]: null } }, { Servers: { [HOST]: 'x' } }, { Servers: { [HOST]: [] } },
      { Servers: { [HOST]: { Services: [] } } }, { Servers: { [HOST]: { Services: 'x' } } },
      { Servers: { [HOST]: { Services: { [ID]: null } } } }, { Servers: { [HOST]: { Services: { [ID]: 2 } } } },
      { Servers: { [HOST]: { Services: { [ID]: {} } } } },
    ];
    for (const shape of shapes) {
      const result = serviceStatusIn(shape, HOST, ID);
      assert.equal(result.kind, 'unknown', JSON.stringify(shape));
      assert.ok(whyOf(result).length > 0);
    }
  });

  it('treats a Status that is not a known integer as unknown, never as a verdict', () => {
    for (const status of ['2', '', null, undefined, 2.5, -1, 5, 99, Number.NaN, true, [2], { v: 2 }]) {
      const result = serviceStatusIn(stateWith(status), HOST, ID);
      assert.equal(result.kind, 'unknown', String(status));
    }
    assert.match(whyOf(serviceStatusIn(stateWith(7), HOST, ID)), /unrecognised status 7/);
    assert.match(whyOf(serviceStatusIn(stateWith('2'), HOST, ID)), /no integer "Status"/);
  });

  it('does not find inherited properties for odd hostnames or ids', () => {
    assert.equal(serviceStatusIn(stateWith(0), '__proto__', ID).kind, 'unknown');
    assert.equal(serviceStatusIn(stateWith(0), 'constructor', ID).kind, 'unknown');
    assert.equal(serviceStatusIn(stateWith(0), HOST, 'constructor').kind, 'unknown');
    assert.equal(serviceStatusIn(stateWith(0), HOST, 'toString').kind, 'unknown');
  });

  it('reads a state parsed from the JSON Sidecar really sends', () => {
    const wire = JSON.stringify(stateWith(2));
    assert.deepEqual(serviceStatusIn(JSON.parse(wire), HOST, ID), { kind: 'status', status: 2, name: 'UNHEALTHY' });
  });
});
