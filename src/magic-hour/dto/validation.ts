import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Expose, Type } from 'class-transformer';
import { IsArray, IsBoolean, IsInt, IsISO8601, Matches, IsNumber, IsObject, IsOptional, IsString, ValidateNested } from 'class-validator';

// Magic Hour may send null for any field it has no value for, and may add fields at any time, so every
// optional field accepts null or absence; only what the service depends on is checked strictly.
// Each helper also describes its field for the OpenAPI document, so the schema is the validation's.

/**
 * An optional string that may be null, of any length: Magic Hour's schema caps none of its strings, and
 * a long one must not cost its event (the body limit bounds them all).
 */
export const OptionalString = () =>
  applyDecorators(ApiPropertyOptional({ type: String, nullable: true }), Expose(), IsOptional(), IsString());

// RFC 3339: the ISO 8601 profile that `Date` and Postgres both read, with an explicit offset. Other
// ISO 8601 forms (week dates, ordinal dates, basic format, no offset) pass IsISO8601 but not `Date`.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

/** An optional RFC 3339 timestamp with an offset that may be null; stored as a timestamp, so it must parse. */
export const OptionalTimestamp = () =>
  applyDecorators(
    ApiPropertyOptional({ type: String, format: 'date-time', nullable: true, description: 'RFC 3339, with an offset' }),
    Expose(),
    IsOptional(),
    Matches(RFC3339, { message: ({ property }) => `${property} must be an RFC 3339 timestamp with an offset` }),
    IsISO8601({ strict: true }),
  );

/** An optional finite number that may be null. */
export const OptionalNumber = () =>
  applyDecorators(
    ApiPropertyOptional({ type: Number, nullable: true }),
    Expose(),
    IsOptional(),
    IsNumber({ allowNaN: false, allowInfinity: false }),
  );

/**
 * An optional whole number that may be null, with no bounds: Magic Hour's schema sets none. Where it
 * is stored, the mapper keeps what the column holds (the event keeps the number as sent).
 */
export const OptionalInteger = () =>
  applyDecorators(ApiPropertyOptional({ type: 'integer', nullable: true }), Expose(), IsOptional(), IsInt());

/** An optional boolean that may be null. */
export const OptionalBoolean = () =>
  applyDecorators(ApiPropertyOptional({ type: Boolean, nullable: true }), Expose(), IsOptional(), IsBoolean());

/** A DTO class: class-transformer and class-validator make its instances with no arguments. */
export type DtoClass = new () => object;

/** The nested DTO types declared by each class, keyed by the class (compared by identity only). */
const NESTED_TYPES = new Map<object, Map<string, () => DtoClass>>();

/** Records which DTO a nested property holds, for `compileValidator` (class-transformer keeps its own copy). */
const NestedType =
  (type: () => DtoClass): PropertyDecorator =>
  (target, property) => {
    const owner = target.constructor;
    if (!NESTED_TYPES.has(owner)) NESTED_TYPES.set(owner, new Map());
    NESTED_TYPES.get(owner)!.set(String(property), type);
  };

/** The DTO class a nested property of `cls` (or of a class it extends) holds, if it was declared. */
export function nestedTypeOf(cls: DtoClass, property: string): DtoClass | undefined {
  // A class's prototype (in the `Object.getPrototypeOf` sense) is the class it extends.
  for (let current: object | null = cls; current && current !== Object; current = Reflect.getPrototypeOf(current)) {
    const type = NESTED_TYPES.get(current)?.get(property);
    if (type) return type();
  }
  return undefined;
}

/** An optional nested object that may be null, validated as `type`. */
export const OptionalNested = (type: () => DtoClass) =>
  applyDecorators(
    // Named `type`, as @nestjs/swagger recognises a lazy type by its function's name.
    ApiPropertyOptional({ type: () => type(), nullable: true }),
    Expose(),
    IsOptional(),
    IsObject(),
    ValidateNested(),
    Type(type),
    NestedType(type),
  );

/** An optional array that may be null, each element validated as `type`. */
export const OptionalNestedArray = (type: () => DtoClass) =>
  applyDecorators(
    ApiPropertyOptional({ type: () => type(), isArray: true, nullable: true }),
    Expose(),
    IsOptional(),
    IsArray(),
    ValidateNested({ each: true }),
    Type(type),
    NestedType(type),
  );
