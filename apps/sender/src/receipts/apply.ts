// Receipt application lives in packages/shared: the API's callback routes use it too.
export { applyReceipt, type ReceiptResult } from '@sms-verify/shared'
