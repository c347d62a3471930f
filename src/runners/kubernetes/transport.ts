/** A pod as the place a runner's commands run: the exec API (one command, or one streamed) instead of ssh. */
import type { Stream, Transport, TransportResult } from '../hosted.js';
import type { KubeCluster } from './cluster.js';

export class PodTransport implements Transport {
  constructor(private readonly cluster: KubeCluster, readonly pod: string) {}

  run(argv: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<TransportResult> {
    return this.cluster.exec(this.pod, argv, options);
  }

  open(argv: readonly string[], onStdout: (chunk: string) => void): Promise<Stream> {
    return this.cluster.stream(this.pod, argv, onStdout);
  }
}
