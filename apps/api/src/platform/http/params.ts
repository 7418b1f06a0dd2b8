import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';

/** The `{tenantId}` path parameter every tenant-scoped route starts with. */
export class TenantParams extends createZodDto(z.object({ tenantId: z.uuid() })) {}
