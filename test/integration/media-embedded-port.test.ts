import { mediaPortContract } from '../support/media/media-port-contract.ts';
import { embeddedHarness } from '../support/media/embedded-harness.ts';

mediaPortContract('embedded RTP endpoint', (opts) => embeddedHarness(31000, 31098, {}, opts));
