export * from "./client.js";
export { OPERATIONS } from "./generated/operations.js";
