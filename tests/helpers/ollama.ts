export { fakeOllama, FIX_ADD_NUMBERS, type ChatRequestRecord, type FakeOllama, type Turn } from '../../scripts/fake-ollama.js';
