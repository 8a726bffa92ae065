export { CONTRACT_DIR, contractOperation, contractOperations, type ContractOperation } from '../../scripts/contract.js';
