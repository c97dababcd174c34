/** Opens the collection directory argv[2] and prints 'opened' or the error code. */
import { Client } from '../../src/index.js';

try {
  const client = await Client.open(process.argv[2] as string);
  console.log('opened');
  await client.close();
} catch (err) {
  console.log((err as { code?: string }).code ?? String(err));
}
