export { startSshd, SSHD, type Sshd } from '../../scripts/sshd.js';
