import { Controller, Get } from '@nestjs/common';

/** One of the app's own routes, next to the module's. */
@Controller('hello')
export class HelloController {
  @Get()
  hello(): { hello: string } {
    return { hello: 'world' };
  }
}
